"""What callers ask the ledger to do. Commands are plain values; the service carries them out."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from twinrail.ledger.domain.model import Limits, Posting, Side

__all__ = [
    "DefineAsset",
    "OpenAccount",
    "CloseAccount",
    "PostTransfer",
    "PostPendingTransfer",
    "VoidPendingTransfer",
    "ReverseTransfer",
]


@dataclass(frozen=True, slots=True)
class DefineAsset:
    code: str
    scale: int


@dataclass(frozen=True, slots=True)
class OpenAccount:
    id: str
    asset: str
    code: str
    name: str
    normal_side: Side
    limits: Limits = field(default_factory=Limits)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CloseAccount:
    id: str


@dataclass(frozen=True, slots=True)
class PostTransfer:
    """Post a balanced transfer now, or hold it pending (`pending=True`) until posted or voided.

    `id` is the idempotency key: the same id with the same body returns the first result.
    """

    id: str
    postings: tuple[Posting, ...]
    effective_at: dt.datetime | None = None
    reference: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    pending: bool = False
    timeout_seconds: int | None = None  # a hold expires this long after it was placed

    def body_hash(self) -> str:
        """A digest of everything but the id, to tell a replay from a conflicting reuse."""
        body = {
            "postings": [p.as_dict() for p in self.postings],
            "effective_at": self.effective_at.isoformat() if self.effective_at else None,
            "reference": self.reference,
            "metadata": self.metadata,
            "pending": self.pending,
            "timeout_seconds": self.timeout_seconds,
        }
        return _digest(body)


@dataclass(frozen=True, slots=True)
class PostPendingTransfer:
    """Post a hold in full, or for a smaller `amount` (the rest is released)."""

    hold_id: str
    amount: int | None = None


@dataclass(frozen=True, slots=True)
class VoidPendingTransfer:
    hold_id: str


@dataclass(frozen=True, slots=True)
class ReverseTransfer:
    """Post a new transfer `id` that undoes posted transfer `original_id`."""

    id: str
    original_id: str
    reference: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def body_hash(self) -> str:
        return _digest(
            {"reverses": self.original_id, "reference": self.reference, "metadata": self.metadata}
        )


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
