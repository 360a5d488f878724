"""Nonce counters and reservations on the caller's connection (the caller commits).

`lock_counter` is what makes reservations safe across threads and processes: on PostgreSQL it
takes the counter row FOR UPDATE (created first if missing, with ON CONFLICT DO NOTHING so two
creators cannot both fail); on SQLite every write transaction already began with BEGIN IMMEDIATE,
so writers are serialised by the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from twinrail.crypto.domain.nonces import NonceReservation, ReservationStatus, TxAttempt
from twinrail.crypto.store.tables import nonce_counters, nonce_reservations, tx_attempts

__all__ = [
    "Counter",
    "lock_counter",
    "save_counter",
    "find_by_ref",
    "find_by_nonce",
    "lowest_released",
    "insert_reservation",
    "update_reservation",
    "reservations_in",
    "insert_attempt",
    "attempts_for",
    "broadcast_before",
]

Counter = tuple[int, int]  # (next_nonce, chain_nonce)


def _key(chain_id: int, address: str) -> Any:
    return (nonce_counters.c.chain_id == chain_id) & (nonce_counters.c.address == address)


def _res_key(chain_id: int, address: str) -> Any:
    return (nonce_reservations.c.chain_id == chain_id) & (nonce_reservations.c.address == address)


def lock_counter(
    conn: Connection, chain_id: int, address: str, start: int, now: dt.datetime
) -> Counter:
    """Lock (creating at `start` if missing) the sender's counter; returns it."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        dialect_insert(nonce_counters)
        .values(
            chain_id=chain_id, address=address, next_nonce=start, chain_nonce=start, updated_at=now
        )
        .on_conflict_do_nothing()
    )
    row = conn.execute(
        select(nonce_counters.c.next_nonce, nonce_counters.c.chain_nonce)
        .where(_key(chain_id, address))
        .with_for_update()
    ).one()
    return int(row.next_nonce), int(row.chain_nonce)


def save_counter(
    conn: Connection, chain_id: int, address: str, counter: Counter, now: dt.datetime
) -> None:
    conn.execute(
        update(nonce_counters)
        .where(_key(chain_id, address))
        .values(next_nonce=counter[0], chain_nonce=counter[1], updated_at=now)
    )


def _to_domain(row: Any) -> NonceReservation:
    return NonceReservation(
        chain_id=int(row.chain_id),
        address=row.address,
        nonce=int(row.nonce),
        ref=row.ref,
        status=ReservationStatus(row.status),
        raw_tx=bytes(row.raw_tx) if row.raw_tx is not None else None,
        tx_hash=row.tx_hash,
        updated_at=row.updated_at,
    )


def find_by_ref(conn: Connection, chain_id: int, address: str, ref: str) -> NonceReservation | None:
    row = conn.execute(
        select(nonce_reservations).where(
            _res_key(chain_id, address), nonce_reservations.c.ref == ref
        )
    ).first()
    return _to_domain(row) if row else None


def find_by_nonce(
    conn: Connection, chain_id: int, address: str, nonce: int
) -> NonceReservation | None:
    row = conn.execute(
        select(nonce_reservations).where(
            _res_key(chain_id, address), nonce_reservations.c.nonce == nonce
        )
    ).first()
    return _to_domain(row) if row else None


def lowest_released(
    conn: Connection, chain_id: int, address: str, floor: int
) -> NonceReservation | None:
    row = conn.execute(
        select(nonce_reservations)
        .where(
            _res_key(chain_id, address),
            nonce_reservations.c.status == ReservationStatus.RELEASED.value,
            nonce_reservations.c.nonce >= floor,
        )
        .order_by(nonce_reservations.c.nonce)
        .limit(1)
    ).first()
    return _to_domain(row) if row else None


def insert_reservation(conn: Connection, reservation: NonceReservation) -> None:
    conn.execute(
        insert(nonce_reservations).values(
            chain_id=reservation.chain_id,
            address=reservation.address,
            nonce=reservation.nonce,
            ref=reservation.ref,
            status=reservation.status.value,
            raw_tx=reservation.raw_tx,
            tx_hash=reservation.tx_hash,
            updated_at=reservation.updated_at,
        )
    )


def update_reservation(conn: Connection, reservation: NonceReservation) -> None:
    conn.execute(
        update(nonce_reservations)
        .where(
            _res_key(reservation.chain_id, reservation.address),
            nonce_reservations.c.nonce == reservation.nonce,
        )
        .values(
            ref=reservation.ref,
            status=reservation.status.value,
            raw_tx=reservation.raw_tx,
            tx_hash=reservation.tx_hash,
            updated_at=reservation.updated_at,
        )
    )


def reservations_in(
    conn: Connection, chain_id: int, address: str, statuses: tuple[ReservationStatus, ...]
) -> list[NonceReservation]:
    rows = conn.execute(
        select(nonce_reservations)
        .where(
            _res_key(chain_id, address),
            nonce_reservations.c.status.in_([s.value for s in statuses]),
        )
        .order_by(nonce_reservations.c.nonce)
    )
    return [_to_domain(row) for row in rows]


def insert_attempt(conn: Connection, attempt: TxAttempt) -> None:
    conn.execute(
        insert(tx_attempts).values(
            chain_id=attempt.chain_id,
            address=attempt.address,
            nonce=attempt.nonce,
            attempt=attempt.attempt,
            tx_hash=attempt.tx_hash,
            raw_tx=attempt.raw_tx,
            max_fee_per_gas=attempt.max_fee_per_gas,
            max_priority_fee_per_gas=attempt.max_priority_fee_per_gas,
            created_at=attempt.created_at,
        )
    )


def attempts_for(conn: Connection, chain_id: int, address: str, nonce: int) -> list[TxAttempt]:
    """Every signed version for the nonce, original first."""
    rows = conn.execute(
        select(tx_attempts)
        .where(
            tx_attempts.c.chain_id == chain_id,
            tx_attempts.c.address == address,
            tx_attempts.c.nonce == nonce,
        )
        .order_by(tx_attempts.c.attempt)
    )
    return [
        TxAttempt(
            chain_id=int(r.chain_id),
            address=r.address,
            nonce=int(r.nonce),
            attempt=int(r.attempt),
            tx_hash=r.tx_hash,
            raw_tx=bytes(r.raw_tx),
            max_fee_per_gas=int(r.max_fee_per_gas),
            max_priority_fee_per_gas=int(r.max_priority_fee_per_gas),
            created_at=r.created_at,
        )
        for r in rows
    ]


def broadcast_before(
    conn: Connection, chain_id: int, address: str, cutoff: dt.datetime
) -> list[NonceReservation]:
    """Broadcast reservations last touched before `cutoff`, lowest nonce first."""
    rows = conn.execute(
        select(nonce_reservations)
        .where(
            _res_key(chain_id, address),
            nonce_reservations.c.status == ReservationStatus.BROADCAST.value,
            nonce_reservations.c.updated_at < cutoff,
        )
        .order_by(nonce_reservations.c.nonce)
    )
    return [_to_domain(row) for row in rows]
