"""Sweeps of token balances from deposit addresses to the hot wallet: rows in, dataclasses out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from twinrail.crypto.domain.sweeps import GAS_REF_PREFIX, Sweep, SweepStatus
from twinrail.crypto.store.tables import nonce_reservations, sweeps, tx_attempts

__all__ = [
    "insert_sweep",
    "open_sweep",
    "open_sweeps",
    "list_sweeps",
    "update_sweep",
    "gas_top_up_hashes",
]

_OPEN = (SweepStatus.TOPPING_UP.value, SweepStatus.SWEEPING.value)


def _sweep(row: Any) -> Sweep:
    return Sweep(
        id=row.id,
        chain_id=int(row.chain_id),
        address=row.address,
        token=row.token,
        asset=row.asset,
        amount=row.amount,
        hot_wallet=row.hot_wallet,
        status=SweepStatus(row.status),
        top_up_wei=row.top_up_wei,
        top_up_tx=row.top_up_tx,
        sweep_tx=row.sweep_tx,
        fee_wei=row.fee_wei,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _values(s: Sweep) -> dict[str, Any]:
    return {
        "id": s.id,
        "chain_id": s.chain_id,
        "address": s.address,
        "token": s.token,
        "asset": s.asset,
        "amount": s.amount,
        "hot_wallet": s.hot_wallet,
        "status": s.status.value,
        "top_up_wei": s.top_up_wei,
        "top_up_tx": s.top_up_tx,
        "sweep_tx": s.sweep_tx,
        "fee_wei": s.fee_wei,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def insert_sweep(conn: Connection, s: Sweep) -> None:
    conn.execute(insert(sweeps).values(_values(s)))


def update_sweep(conn: Connection, s: Sweep) -> None:
    values = {k: v for k, v in _values(s).items() if k != "id"}
    conn.execute(update(sweeps).where(sweeps.c.id == s.id).values(values))


def open_sweep(conn: Connection, chain_id: int, address: str, token: str) -> Sweep | None:
    """The unfinished sweep of `token` from `address`, if a previous run left one."""
    row = conn.execute(
        select(sweeps).where(
            sweeps.c.chain_id == chain_id,
            sweeps.c.address == address,
            sweeps.c.token == token,
            sweeps.c.status.in_(_OPEN),
        )
    ).first()
    return None if row is None else _sweep(row)


def open_sweeps(conn: Connection, chain_id: int) -> list[Sweep]:
    rows = conn.execute(
        select(sweeps)
        .where(sweeps.c.chain_id == chain_id, sweeps.c.status.in_(_OPEN))
        .order_by(sweeps.c.created_at, sweeps.c.id)
    )
    return [_sweep(r) for r in rows]


def list_sweeps(conn: Connection, chain_id: int) -> list[Sweep]:
    rows = conn.execute(
        select(sweeps).where(sweeps.c.chain_id == chain_id).order_by(sweeps.c.created_at)
    )
    return [_sweep(r) for r in rows]


def gas_top_up_hashes(conn: Connection, chain_id: int, tx_hashes: Sequence[str]) -> set[str]:
    """Those of `tx_hashes` that are a version of a sweep's gas top-up (any replacement too)."""
    wanted = sorted({h.lower() for h in tx_hashes})
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        rows = conn.execute(
            select(tx_attempts.c.tx_hash)
            .select_from(
                tx_attempts.join(
                    nonce_reservations,
                    and_(
                        nonce_reservations.c.chain_id == tx_attempts.c.chain_id,
                        nonce_reservations.c.address == tx_attempts.c.address,
                        nonce_reservations.c.nonce == tx_attempts.c.nonce,
                    ),
                )
            )
            .where(
                tx_attempts.c.chain_id == chain_id,
                tx_attempts.c.tx_hash.in_(wanted[i : i + 500]),
                nonce_reservations.c.ref.startswith(GAS_REF_PREFIX),
            )
        )
        found.update(r.tx_hash.lower() for r in rows)
    return found
