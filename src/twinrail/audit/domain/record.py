"""An audit record: who did what to which subject, when, under which request, and the outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AuditRecord"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the audit trail, as written by a unit of work (before it is sealed)."""

    action: str  # dotted, e.g. "ledger.transfer_posted"
    subject: str  # what it concerns, e.g. "transfer:7f3c..."
    actor: str
    occurred_at: dt.datetime
    outcome: str = "ok"  # "ok" or "rejected"
    correlation_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # never secrets or personal data
