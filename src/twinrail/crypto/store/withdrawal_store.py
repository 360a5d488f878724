"""Withdrawals on the caller's connection (the caller commits).

Updates are optimistic: a row is written only if its version is still the one the writer read,
so two workers that advance the same withdrawal at once cannot both win (`StaleWithdrawal`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from twinrail.crypto.domain.nonces import NonceReservation
from twinrail.crypto.domain.withdrawals import TERMINAL, Withdrawal, WithdrawalStatus
from twinrail.crypto.store import nonce_store
from twinrail.crypto.store.tables import withdrawals

__all__ = [
    "StaleWithdrawal",
    "insert_withdrawal",
    "get",
    "update_withdrawal",
    "open_withdrawals",
    "list_withdrawals",
    "reservation_for",
]


class StaleWithdrawal(Exception):
    """Another writer moved the withdrawal since it was read."""


def _row(w: Withdrawal) -> dict[str, Any]:
    return {
        "id": w.id,
        "account_id": w.account_id,
        "chain_id": w.chain_id,
        "asset": w.asset,
        "token": w.token,
        "amount": w.amount,
        "to_address": w.to_address,
        "status": w.status.value,
        "hold_id": w.hold_id,
        "reference": w.reference,
        "reason": w.reason[:500],
        "hot_address": w.hot_address,
        "nonce": w.nonce,
        "tx_hash": w.tx_hash,
        "block_number": w.block_number,
        "block_hash": w.block_hash,
        "gas_used": w.gas_used,
        "effective_gas_price": w.effective_gas_price,
        "fee": w.fee,
        "version": w.version,
        "created_at": w.created_at,
        "updated_at": w.updated_at,
    }


def _to_domain(row: Any) -> Withdrawal:
    def opt_int(value: Any) -> int | None:
        return None if value is None else int(value)

    return Withdrawal(
        id=row.id,
        account_id=row.account_id,
        chain_id=int(row.chain_id),
        asset=row.asset,
        token=row.token,
        amount=int(row.amount),
        to_address=row.to_address,
        status=WithdrawalStatus(row.status),
        hold_id=row.hold_id,
        reference=row.reference,
        created_at=row.created_at,
        updated_at=row.updated_at,
        reason=row.reason,
        hot_address=row.hot_address,
        nonce=opt_int(row.nonce),
        tx_hash=row.tx_hash,
        block_number=opt_int(row.block_number),
        block_hash=row.block_hash,
        gas_used=opt_int(row.gas_used),
        effective_gas_price=opt_int(row.effective_gas_price),
        fee=opt_int(row.fee),
        version=int(row.version),
    )


def insert_withdrawal(conn: Connection, w: Withdrawal) -> None:
    conn.execute(insert(withdrawals).values(**_row(w)))


def get(conn: Connection, withdrawal_id: str) -> Withdrawal | None:
    row = conn.execute(select(withdrawals).where(withdrawals.c.id == withdrawal_id)).first()
    return _to_domain(row) if row else None


def update_withdrawal(conn: Connection, w: Withdrawal, *, previous_version: int) -> None:
    """Write `w` over the row at `previous_version`, or raise StaleWithdrawal."""
    values = _row(w)
    del values["id"], values["created_at"]
    result = conn.execute(
        update(withdrawals)
        .where(withdrawals.c.id == w.id, withdrawals.c.version == previous_version)
        .values(**values)
    )
    if result.rowcount != 1:
        raise StaleWithdrawal(w.id)


def open_withdrawals(conn: Connection, chain_id: int, limit: int = 100) -> list[Withdrawal]:
    """Withdrawals on `chain_id` still moving, oldest first (the order their nonces follow)."""
    rows = conn.execute(
        select(withdrawals)
        .where(
            withdrawals.c.chain_id == chain_id,
            withdrawals.c.status.not_in([s.value for s in TERMINAL]),
        )
        .order_by(withdrawals.c.created_at, withdrawals.c.id)
        .limit(limit)
    )
    return [_to_domain(r) for r in rows]


def list_withdrawals(
    conn: Connection, *, chain_id: int | None = None, status: str | None = None, limit: int = 100
) -> list[Withdrawal]:
    """The newest withdrawals first, optionally of one chain or status."""
    query = select(withdrawals)
    if chain_id is not None:
        query = query.where(withdrawals.c.chain_id == chain_id)
    if status is not None:
        query = query.where(withdrawals.c.status == status)
    rows = conn.execute(
        query.order_by(withdrawals.c.created_at.desc(), withdrawals.c.id).limit(limit)
    )
    return [_to_domain(r) for r in rows]


def reservation_for(
    conn: Connection, chain_id: int, hot_address: str, withdrawal_id: str
) -> NonceReservation | None:
    """The nonce held for the withdrawal (signed bytes included), if one was reserved."""
    return nonce_store.find_by_ref(conn, chain_id, hot_address, withdrawal_id)
