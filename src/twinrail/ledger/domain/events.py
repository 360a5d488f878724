"""Ledger events: the event store's records and what the outbox publishes.

Streams: `asset:<code>`, `account:<id>` and `transfer:<id>` (a hold's placement and its
settlement share the transfer's stream, so the database's unique (stream, version) turns a
second settlement of the same hold into a conflict).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from twinrail.ledger.domain.model import Account, Limits, Posting, Side, Transfer, TransferStatus

__all__ = [
    "LedgerEvent",
    "AssetDefined",
    "AccountOpened",
    "AccountClosed",
    "TransferPosted",
    "HoldPlaced",
    "HoldPosted",
    "HoldVoided",
    "HoldExpired",
    "event_from_record",
]


def _ts(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class AssetDefined:
    topic: ClassVar[str] = "ledger.asset_defined"
    code: str
    scale: int

    @property
    def stream_id(self) -> str:
        return f"asset:{self.code}"

    @property
    def stream_version(self) -> int:
        return 1

    def payload(self) -> dict[str, Any]:
        return {"code": self.code, "scale": self.scale}


@dataclass(frozen=True, slots=True)
class AccountOpened:
    topic: ClassVar[str] = "ledger.account_opened"
    account: Account

    @property
    def stream_id(self) -> str:
        return f"account:{self.account.id}"

    @property
    def stream_version(self) -> int:
        return 1

    def payload(self) -> dict[str, Any]:
        a = self.account
        return {
            "account_id": a.id,
            "asset": a.asset,
            "code": a.code,
            "name": a.name,
            "normal_side": a.normal_side.value,
            "limits": {
                "debits_must_not_exceed_credits": a.limits.debits_must_not_exceed_credits,
                "credits_must_not_exceed_debits": a.limits.credits_must_not_exceed_debits,
                "overdraft_limit": str(a.limits.overdraft_limit),
            },
            "metadata": a.metadata,
            "opened_at": _ts(a.opened_at),
        }


@dataclass(frozen=True, slots=True)
class AccountClosed:
    topic: ClassVar[str] = "ledger.account_closed"
    account_id: str
    closed_at: dt.datetime

    @property
    def stream_id(self) -> str:
        return f"account:{self.account_id}"

    @property
    def stream_version(self) -> int:
        return 2

    def payload(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "closed_at": _ts(self.closed_at)}


def _transfer_payload(t: Transfer) -> dict[str, Any]:
    return {
        "transfer_id": t.id,
        "postings": [p.as_dict() for p in t.postings],
        "effective_at": _ts(t.effective_at),
        "recorded_at": _ts(t.recorded_at),
        "reference": t.reference,
        "metadata": t.metadata,
        "body_hash": t.body_hash,
        "expires_at": _ts(t.expires_at),
        "reverses": t.reverses,
    }


@dataclass(frozen=True, slots=True)
class TransferPosted:
    topic: ClassVar[str] = "ledger.transfer_posted"
    transfer: Transfer

    @property
    def stream_id(self) -> str:
        return f"transfer:{self.transfer.id}"

    @property
    def stream_version(self) -> int:
        return 1

    def payload(self) -> dict[str, Any]:
        return _transfer_payload(self.transfer)


@dataclass(frozen=True, slots=True)
class HoldPlaced:
    topic: ClassVar[str] = "ledger.hold_placed"
    transfer: Transfer

    @property
    def stream_id(self) -> str:
        return f"transfer:{self.transfer.id}"

    @property
    def stream_version(self) -> int:
        return 1

    def payload(self) -> dict[str, Any]:
        return _transfer_payload(self.transfer)


@dataclass(frozen=True, slots=True)
class HoldPosted:
    topic: ClassVar[str] = "ledger.hold_posted"
    transfer_id: str
    postings: tuple[Posting, ...]
    posted_at: dt.datetime

    @property
    def stream_id(self) -> str:
        return f"transfer:{self.transfer_id}"

    @property
    def stream_version(self) -> int:
        return 2

    def payload(self) -> dict[str, Any]:
        return {
            "transfer_id": self.transfer_id,
            "postings": [p.as_dict() for p in self.postings],
            "posted_at": _ts(self.posted_at),
        }


@dataclass(frozen=True, slots=True)
class HoldVoided:
    topic: ClassVar[str] = "ledger.hold_voided"
    transfer_id: str
    voided_at: dt.datetime

    @property
    def stream_id(self) -> str:
        return f"transfer:{self.transfer_id}"

    @property
    def stream_version(self) -> int:
        return 2

    def payload(self) -> dict[str, Any]:
        return {"transfer_id": self.transfer_id, "voided_at": _ts(self.voided_at)}


@dataclass(frozen=True, slots=True)
class HoldExpired:
    topic: ClassVar[str] = "ledger.hold_expired"
    transfer_id: str
    voided_at: dt.datetime

    @property
    def stream_id(self) -> str:
        return f"transfer:{self.transfer_id}"

    @property
    def stream_version(self) -> int:
        return 2

    def payload(self) -> dict[str, Any]:
        return {"transfer_id": self.transfer_id, "voided_at": _ts(self.voided_at)}


LedgerEvent = (
    AssetDefined
    | AccountOpened
    | AccountClosed
    | TransferPosted
    | HoldPlaced
    | HoldPosted
    | HoldVoided
    | HoldExpired
)


def _transfer_from(data: dict[str, Any], status: TransferStatus) -> Transfer:
    effective_at = _parse_ts(data["effective_at"])
    recorded_at = _parse_ts(data["recorded_at"])
    assert effective_at is not None and recorded_at is not None
    return Transfer(
        id=data["transfer_id"],
        postings=tuple(Posting.from_dict(p) for p in data["postings"]),
        status=status,
        effective_at=effective_at,
        recorded_at=recorded_at,
        body_hash=data["body_hash"],
        reference=data["reference"],
        metadata=data["metadata"],
        expires_at=_parse_ts(data["expires_at"]),
        reverses=data["reverses"],
    )


def event_from_record(topic: str, data: dict[str, Any]) -> LedgerEvent:
    """Rebuild an event from its stored topic and payload (the inverse of `payload`)."""
    if topic == AssetDefined.topic:
        return AssetDefined(data["code"], data["scale"])
    if topic == AccountOpened.topic:
        lim = data["limits"]
        return AccountOpened(
            Account(
                id=data["account_id"],
                asset=data["asset"],
                code=data["code"],
                name=data["name"],
                normal_side=Side(data["normal_side"]),
                limits=Limits(
                    lim["debits_must_not_exceed_credits"],
                    lim["credits_must_not_exceed_debits"],
                    int(lim["overdraft_limit"]),
                ),
                metadata=data["metadata"],
                opened_at=_parse_ts(data["opened_at"]),
            )
        )
    if topic == AccountClosed.topic:
        closed_at = _parse_ts(data["closed_at"])
        assert closed_at is not None
        return AccountClosed(data["account_id"], closed_at)
    if topic == TransferPosted.topic:
        return TransferPosted(_transfer_from(data, TransferStatus.POSTED))
    if topic == HoldPlaced.topic:
        return HoldPlaced(_transfer_from(data, TransferStatus.PENDING))
    if topic == HoldPosted.topic:
        posted_at = _parse_ts(data["posted_at"])
        assert posted_at is not None
        postings = tuple(Posting.from_dict(p) for p in data["postings"])
        return HoldPosted(data["transfer_id"], postings, posted_at)
    voided_at = _parse_ts(data["voided_at"])
    assert voided_at is not None
    if topic == HoldVoided.topic:
        return HoldVoided(data["transfer_id"], voided_at)
    if topic == HoldExpired.topic:
        return HoldExpired(data["transfer_id"], voided_at)
    raise ValueError(f"unknown ledger event topic {topic!r}")
