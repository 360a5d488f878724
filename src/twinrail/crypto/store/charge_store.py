"""Charges and the payments on their addresses: rows in, frozen dataclasses out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from twinrail.crypto.domain.charges import Charge, ChargePayment, ChargeStatus
from twinrail.crypto.domain.deposits import DepositStatus
from twinrail.crypto.store.tables import charges, deposits

__all__ = [
    "insert_charge",
    "find_charge",
    "charges_at",
    "list_charges",
    "due_for_expiry",
    "update_charge",
    "payments_to",
]

_LIVE = (DepositStatus.SEEN.value, DepositStatus.CONFIRMING.value, DepositStatus.CREDITED.value)
_OPEN = (ChargeStatus.NEW.value, ChargeStatus.PENDING.value)


def _charge(row: Any) -> Charge:
    return Charge(
        id=row.id,
        chain_id=int(row.chain_id),
        asset=row.asset,
        token=row.token,
        amount=row.amount,
        address=row.address,
        account_id=row.account_id,
        status=ChargeStatus(row.status),
        paid=row.paid,
        created_at=row.created_at,
        expires_at=row.expires_at,
        updated_at=row.updated_at,
        version=row.version,
        reference=row.reference,
    )


def insert_charge(conn: Connection, c: Charge) -> None:
    conn.execute(
        insert(charges).values(
            id=c.id,
            chain_id=c.chain_id,
            asset=c.asset,
            token=c.token,
            amount=c.amount,
            address=c.address,
            account_id=c.account_id,
            status=c.status.value,
            paid=c.paid,
            reference=c.reference,
            created_at=c.created_at,
            expires_at=c.expires_at,
            updated_at=c.updated_at,
            version=c.version,
        )
    )


def find_charge(conn: Connection, charge_id: str, *, for_update: bool = False) -> Charge | None:
    stmt = select(charges).where(charges.c.id == charge_id)
    if for_update:
        stmt = stmt.with_for_update()  # SQLite ignores it; its writers are serialised anyway
    row = conn.execute(stmt).first()
    return None if row is None else _charge(row)


def charges_at(conn: Connection, chain_id: int, addresses: Sequence[str]) -> list[Charge]:
    """The charges on `chain_id` whose address is one of `addresses`, locked for update."""
    if not addresses:
        return []
    rows = conn.execute(
        select(charges)
        .where(charges.c.chain_id == chain_id, charges.c.address.in_(sorted(set(addresses))))
        .order_by(charges.c.id)
        .with_for_update()
    )
    return [_charge(r) for r in rows]


def list_charges(
    conn: Connection, *, status: ChargeStatus | None = None, limit: int = 100
) -> list[Charge]:
    """Charges, newest first."""
    stmt = select(charges).order_by(charges.c.created_at.desc(), charges.c.id).limit(limit)
    if status is not None:
        stmt = stmt.where(charges.c.status == status.value)
    return [_charge(r) for r in conn.execute(stmt)]


def due_for_expiry(conn: Connection, now: dt.datetime, limit: int = 500) -> list[Charge]:
    """Open (new or pending) charges whose expiry has passed, locked for update."""
    rows = conn.execute(
        select(charges)
        .where(charges.c.status.in_(_OPEN), charges.c.expires_at <= now)
        .order_by(charges.c.id)  # the watcher's hook locks charges in id order too: no deadlock
        .limit(limit)
        .with_for_update()
    )
    return [_charge(r) for r in rows]


def update_charge(conn: Connection, c: Charge) -> None:
    conn.execute(
        update(charges)
        .where(charges.c.id == c.id)
        .values(status=c.status.value, paid=c.paid, updated_at=c.updated_at, version=c.version)
    )


def payments_to(conn: Connection, c: Charge) -> list[ChargePayment]:
    """Live deposits (not dropped or reversed) to the charge's address in the charge's asset."""
    rows = conn.execute(
        select(
            deposits.c.tx_hash,
            deposits.c.log_index,
            deposits.c.amount,
            deposits.c.seen_at,
            deposits.c.status,
        )
        .where(
            deposits.c.chain_id == c.chain_id,
            deposits.c.address == c.address,
            deposits.c.asset == c.asset,
            deposits.c.status.in_(_LIVE),
        )
        .order_by(deposits.c.block_number, deposits.c.tx_hash, deposits.c.log_index)
    )
    return [
        ChargePayment(
            tx_hash=r.tx_hash,
            log_index=r.log_index,
            amount=r.amount,
            seen_at=r.seen_at,
            confirmed=r.status == DepositStatus.CREDITED.value,
        )
        for r in rows
    ]
