"""Deposits, recent block headers and the watcher checkpoint: rows in, frozen dataclasses out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from twinrail.crypto.domain.deposits import BlockHeader, Deposit, DepositStatus
from twinrail.crypto.store.tables import deposits, watched_blocks, watcher_checkpoints

__all__ = [
    "next_block",
    "set_next_block",
    "header",
    "headers_from",
    "save_headers",
    "forget_headers_above",
    "prune_headers_below",
    "record_deposits",
    "open_deposits",
    "deposits_above",
    "set_status",
    "list_deposits",
]

_REOPENABLE = (DepositStatus.DROPPED.value, DepositStatus.REVERSED.value)


def _deposit(row: Any) -> Deposit:
    return Deposit(
        chain_id=row.chain_id,
        tx_hash=row.tx_hash,
        log_index=row.log_index,
        block_number=row.block_number,
        block_hash=row.block_hash,
        address=row.address,
        owner_ref=row.owner_ref,
        asset=row.asset,
        token=row.token,
        sender=row.sender,
        amount=row.amount,
        status=DepositStatus(row.status),
        incarnation=row.incarnation,
        seen_at=row.seen_at,
        credited_at=row.credited_at,
    )


def next_block(conn: Connection, chain_id: int) -> int | None:
    """The first block the watcher has not read yet, or None before its first run."""
    return conn.scalar(
        select(watcher_checkpoints.c.next_block).where(watcher_checkpoints.c.chain_id == chain_id)
    )


def set_next_block(conn: Connection, chain_id: int, number: int, now: dt.datetime) -> None:
    done = conn.execute(
        update(watcher_checkpoints)
        .where(watcher_checkpoints.c.chain_id == chain_id)
        .values(next_block=number, updated_at=now)
    )
    if done.rowcount == 0:
        conn.execute(
            insert(watcher_checkpoints).values(chain_id=chain_id, next_block=number, updated_at=now)
        )


def header(conn: Connection, chain_id: int, number: int) -> BlockHeader | None:
    row = conn.execute(
        select(watched_blocks).where(
            watched_blocks.c.chain_id == chain_id, watched_blocks.c.number == number
        )
    ).first()
    return None if row is None else BlockHeader(row.number, row.hash, row.parent_hash)


def headers_from(conn: Connection, chain_id: int, lowest: int) -> list[BlockHeader]:
    """Stored headers numbered `lowest` and up, highest first (the walk-back order)."""
    rows = conn.execute(
        select(watched_blocks)
        .where(watched_blocks.c.chain_id == chain_id, watched_blocks.c.number >= lowest)
        .order_by(watched_blocks.c.number.desc())
    )
    return [BlockHeader(r.number, r.hash, r.parent_hash) for r in rows]


def save_headers(conn: Connection, chain_id: int, headers: Sequence[BlockHeader]) -> None:
    if not headers:
        return
    forget_headers_above(conn, chain_id, headers[0].number - 1)
    conn.execute(
        insert(watched_blocks),
        [
            {"chain_id": chain_id, "number": h.number, "hash": h.hash, "parent_hash": h.parent_hash}
            for h in headers
        ],
    )


def forget_headers_above(conn: Connection, chain_id: int, number: int) -> None:
    conn.execute(
        delete(watched_blocks).where(
            watched_blocks.c.chain_id == chain_id, watched_blocks.c.number > number
        )
    )


def prune_headers_below(conn: Connection, chain_id: int, number: int) -> None:
    conn.execute(
        delete(watched_blocks).where(
            watched_blocks.c.chain_id == chain_id, watched_blocks.c.number < number
        )
    )


def _row(d: Deposit, now: dt.datetime) -> dict[str, Any]:
    return {
        "chain_id": d.chain_id,
        "tx_hash": d.tx_hash,
        "log_index": d.log_index,
        "block_number": d.block_number,
        "block_hash": d.block_hash,
        "address": d.address,
        "owner_ref": d.owner_ref,
        "asset": d.asset,
        "token": d.token,
        "sender": d.sender,
        "amount": d.amount,
        "status": d.status.value,
        "incarnation": d.incarnation,
        "seen_at": d.seen_at,
        "credited_at": d.credited_at,
        "updated_at": now,
    }


def record_deposits(conn: Connection, found: Sequence[Deposit], now: dt.datetime) -> int:
    """Insert new deposits; a dropped or reversed one seen again starts its next incarnation.

    Returns how many were recorded; deposits already open or credited are left as they are.
    """
    if not found:
        return 0
    chain_id = found[0].chain_id
    existing: dict[tuple[int, str, int], tuple[str, int]] = {}
    hashes = sorted({d.tx_hash for d in found})
    for i in range(0, len(hashes), 500):
        rows = conn.execute(
            select(
                deposits.c.tx_hash, deposits.c.log_index, deposits.c.status, deposits.c.incarnation
            ).where(deposits.c.chain_id == chain_id, deposits.c.tx_hash.in_(hashes[i : i + 500]))
        )
        for r in rows:
            existing[(chain_id, r.tx_hash, r.log_index)] = (r.status, r.incarnation)
    fresh, reopened = [], []
    for d in found:
        known = existing.get(d.key)
        if known is None:
            fresh.append(_row(d, now))
        elif known[0] in _REOPENABLE:
            reopened.append({**_row(d, now), "incarnation": known[1] + 1})
    if fresh:
        conn.execute(insert(deposits), fresh)
    for row in reopened:
        conn.execute(
            update(deposits)
            .where(
                deposits.c.chain_id == row["chain_id"],
                deposits.c.tx_hash == row["tx_hash"],
                deposits.c.log_index == row["log_index"],
            )
            .values({k: v for k, v in row.items() if k not in ("chain_id", "tx_hash", "log_index")})
        )
    return len(fresh) + len(reopened)


def open_deposits(conn: Connection, chain_id: int) -> list[Deposit]:
    """Deposits waiting for confirmations, oldest block first."""
    rows = conn.execute(
        select(deposits)
        .where(
            deposits.c.chain_id == chain_id,
            deposits.c.status.in_([DepositStatus.SEEN.value, DepositStatus.CONFIRMING.value]),
        )
        .order_by(deposits.c.block_number, deposits.c.tx_hash, deposits.c.log_index)
    )
    return [_deposit(r) for r in rows]


def deposits_above(conn: Connection, chain_id: int, number: int) -> list[Deposit]:
    """Live (open or credited) deposits in blocks after `number`: the ones a reorg orphans."""
    rows = conn.execute(
        select(deposits).where(
            deposits.c.chain_id == chain_id,
            deposits.c.block_number > number,
            deposits.c.status.not_in(_REOPENABLE),
        )
    )
    return [_deposit(r) for r in rows]


def set_status(
    conn: Connection,
    changed: Sequence[Deposit],
    status: DepositStatus,
    now: dt.datetime,
    *,
    credited_at: dt.datetime | None = None,
) -> None:
    """Move each deposit (at its current incarnation) to `status`."""
    if not changed:
        return
    stmt = (
        update(deposits)
        .where(
            and_(
                deposits.c.chain_id == bindparam("k_chain"),
                deposits.c.tx_hash == bindparam("k_tx"),
                deposits.c.log_index == bindparam("k_index"),
                deposits.c.incarnation == bindparam("k_incarnation"),
            )
        )
        .values(status=status.value, updated_at=now)
    )
    if credited_at is not None:
        stmt = stmt.values(credited_at=credited_at)
    conn.execute(
        stmt,
        [
            {
                "k_chain": d.chain_id,
                "k_tx": d.tx_hash,
                "k_index": d.log_index,
                "k_incarnation": d.incarnation,
            }
            for d in changed
        ],
    )


def list_deposits(conn: Connection, chain_id: int | None = None) -> list[Deposit]:
    """Every recorded deposit (one chain, or all), in block order."""
    stmt = select(deposits).order_by(
        deposits.c.chain_id, deposits.c.block_number, deposits.c.tx_hash, deposits.c.log_index
    )
    if chain_id is not None:
        stmt = stmt.where(deposits.c.chain_id == chain_id)
    return [_deposit(r) for r in conn.execute(stmt)]
