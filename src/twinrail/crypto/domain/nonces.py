"""Nonce reservations: one per (chain, sender, nonce), handed out gap-free.

A reservation moves reserved → signed → broadcast → mined. A reservation that was never signed
can be released; the next reservation takes the lowest released nonce before a new one, so the
sequence the chain sees has no gaps. Once signed, the same raw bytes are what gets (re)broadcast:
a restart must never sign a second, different transaction for the same nonce.

A signed reservation becomes `superseded` when the chain used its nonce for a transaction that is
not one of ours (the key signed elsewhere, or the account nonce moved) and that use is final: our
bytes can then never be mined, and the purpose (`ref`) is free to take a fresh nonce.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ReservationStatus",
    "NonceReservation",
    "TxAttempt",
    "check_can_transition",
]


class ReservationStatus(StrEnum):
    """Where a nonce is in its life."""

    RESERVED = "reserved"
    SIGNED = "signed"
    BROADCAST = "broadcast"
    MINED = "mined"
    RELEASED = "released"
    SUPERSEDED = "superseded"  # the chain used the nonce for a transaction not ours


_NEXT: dict[ReservationStatus, frozenset[ReservationStatus]] = {
    ReservationStatus.RESERVED: frozenset({ReservationStatus.SIGNED, ReservationStatus.RELEASED}),
    ReservationStatus.SIGNED: frozenset(
        {ReservationStatus.BROADCAST, ReservationStatus.MINED, ReservationStatus.SUPERSEDED}
    ),
    ReservationStatus.BROADCAST: frozenset({ReservationStatus.MINED, ReservationStatus.SUPERSEDED}),
    # mined, then a reorg took the block away and another transaction took the nonce for good
    ReservationStatus.MINED: frozenset({ReservationStatus.SUPERSEDED}),
    ReservationStatus.RELEASED: frozenset({ReservationStatus.RESERVED}),
    ReservationStatus.SUPERSEDED: frozenset(),
}


def check_can_transition(current: ReservationStatus, new: ReservationStatus) -> bool:
    """Whether a reservation may move from `current` to `new` (same status is a no-op)."""
    return new == current or new in _NEXT[current]


@dataclass(frozen=True, slots=True)
class NonceReservation:
    """One nonce of one sender on one chain, held for `ref` (e.g. a withdrawal id)."""

    chain_id: int
    address: str
    nonce: int
    ref: str | None  # None once released
    status: ReservationStatus
    raw_tx: bytes | None
    tx_hash: str | None
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TxAttempt:
    """One signed version of the transaction for a nonce: 0 is the original, then replacements."""

    chain_id: int
    address: str
    nonce: int
    attempt: int
    tx_hash: str
    raw_tx: bytes
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    created_at: dt.datetime
