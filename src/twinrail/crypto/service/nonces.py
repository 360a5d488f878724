"""The nonce manager: persistent, gap-free nonces per (chain, sender), safe across processes.

Each call is one database transaction that first locks the sender's counter row (see
`store.nonce_store`), so concurrent workers queue on it instead of racing. The node is not asked
here: callers pass what the node reports (`chain_nonce`) and the manager never goes below it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine

from twinrail.crypto.domain.addresses import checksum_address
from twinrail.crypto.domain.errors import NonceStateConflict, ReplacementUnderpriced
from twinrail.crypto.domain.fees import is_valid_replacement
from twinrail.crypto.domain.nonces import (
    NonceReservation,
    ReservationStatus,
    TxAttempt,
    check_can_transition,
)
from twinrail.crypto.domain.transactions import FeeQuote
from twinrail.crypto.store import nonce_store
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.uow import UnitOfWork

__all__ = ["NonceManager"]

_IN_FLIGHT = (ReservationStatus.SIGNED, ReservationStatus.BROADCAST)


class NonceManager:
    """Hands out nonces for `ref`s (e.g. withdrawal ids) and tracks them until mined."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, actor="crypto.nonces", clock=self._clock)

    def reserve(
        self, chain_id: int, address: str, ref: str, *, chain_nonce: int = 0
    ) -> NonceReservation:
        """The nonce held for `ref`, reserving the lowest free one if it has none yet."""
        address = checksum_address(address)
        with self._uow() as uow:
            now = self._clock()
            next_nonce, seen = nonce_store.lock_counter(
                uow.connection, chain_id, address, chain_nonce, now
            )
            # After the lock: a concurrent reserve for the same ref has committed by now.
            reservation = self._reserve_locked(
                uow, chain_id, address, ref, (next_nonce, max(seen, chain_nonce)), now
            )
            uow.commit()
            return reservation

    def supersede(
        self, chain_id: int, address: str, nonce: int, ref: str, *, chain_nonce: int
    ) -> NonceReservation:
        """The chain used `nonce` for a transaction not ours, for good: record our signed
        version(s) as superseded and reserve a fresh nonce for `ref`, in one transaction.

        The caller has checked that none of the nonce's attempts has a receipt and that the
        account's nonce at a final block is past `nonce` (so our bytes can never be mined). A
        second caller (another worker) gets the fresh reservation the first one made.
        """
        address = checksum_address(address)
        with self._uow() as uow:
            now = self._clock()
            next_nonce, seen = nonce_store.lock_counter(
                uow.connection, chain_id, address, chain_nonce, now
            )
            current = nonce_store.find_by_nonce(uow.connection, chain_id, address, nonce)
            if current is None or current.ref != ref:
                already = nonce_store.find_by_ref(uow.connection, chain_id, address, ref)
                if already is None or already.nonce == nonce:
                    raise NonceStateConflict(
                        "the nonce is not held for this ref", chain_id=chain_id, nonce=nonce
                    )
                return already  # another worker superseded it first
            if chain_nonce <= nonce:
                raise NonceStateConflict(
                    "the chain has not used this nonce yet", chain_id=chain_id, nonce=nonce
                )
            superseded = _moved(current, ReservationStatus.SUPERSEDED, now, ref=None)
            nonce_store.update_reservation(uow.connection, superseded)
            reservation = self._reserve_locked(
                uow, chain_id, address, ref, (next_nonce, max(seen, chain_nonce)), now
            )
            uow.commit()
            return reservation

    def _reserve_locked(
        self,
        uow: UnitOfWork,
        chain_id: int,
        address: str,
        ref: str,
        counter: nonce_store.Counter,
        now: dt.datetime,
    ) -> NonceReservation:
        """`reserve` once the counter row is locked; saves the counter (the caller commits)."""
        next_nonce, seen = counter
        existing = nonce_store.find_by_ref(uow.connection, chain_id, address, ref)
        next_nonce = max(next_nonce, seen)
        if existing is not None:
            if existing.status is not ReservationStatus.RESERVED or existing.nonce >= seen:
                return existing
            # Unsigned, and the chain has used this nonce without us: take a fresh one.
            stale = _moved(existing, ReservationStatus.RELEASED, now, ref=None)
            nonce_store.update_reservation(uow.connection, stale)
        released = nonce_store.lowest_released(uow.connection, chain_id, address, seen)
        if released is not None:
            reservation = _moved(released, ReservationStatus.RESERVED, now, ref=ref)
            nonce_store.update_reservation(uow.connection, reservation)
        else:
            reservation = NonceReservation(
                chain_id=chain_id,
                address=address,
                nonce=next_nonce,
                ref=ref,
                status=ReservationStatus.RESERVED,
                raw_tx=None,
                tx_hash=None,
                updated_at=now,
            )
            nonce_store.insert_reservation(uow.connection, reservation)
            next_nonce += 1
        nonce_store.save_counter(uow.connection, chain_id, address, (next_nonce, seen), now)
        return reservation

    def record_signed(
        self,
        chain_id: int,
        address: str,
        nonce: int,
        raw_tx: bytes,
        tx_hash: str,
        fees: FeeQuote,
    ) -> NonceReservation:
        """Store the signed bytes before broadcast; signing the nonce again differently fails."""
        address = checksum_address(address)
        with self._uow() as uow:
            now = self._clock()
            current = self._locked(uow, chain_id, address, nonce)
            if current.raw_tx is not None:
                if current.raw_tx != raw_tx and not self._known_attempt(uow, current, raw_tx):
                    raise NonceStateConflict(
                        "this nonce already has a different signed transaction",
                        chain_id=chain_id,
                        address=address,
                        nonce=nonce,
                        tx_hash=current.tx_hash,
                    )
                return current
            signed = _moved(current, ReservationStatus.SIGNED, now, raw_tx=raw_tx, tx_hash=tx_hash)
            nonce_store.update_reservation(uow.connection, signed)
            nonce_store.insert_attempt(uow.connection, _attempt(signed, 0, fees, now))
            uow.commit()
            return signed

    def record_replacement(
        self,
        chain_id: int,
        address: str,
        nonce: int,
        raw_tx: bytes,
        tx_hash: str,
        fees: FeeQuote,
    ) -> NonceReservation:
        """A same-nonce replacement (speed-up or cancel) of a signed, unmined transaction."""
        address = checksum_address(address)
        with self._uow() as uow:
            now = self._clock()
            current = self._locked(uow, chain_id, address, nonce)
            if current.status not in _IN_FLIGHT:
                raise NonceStateConflict(
                    f"a {current.status.value} nonce cannot be replaced",
                    chain_id=chain_id,
                    address=address,
                    nonce=nonce,
                )
            attempts = nonce_store.attempts_for(uow.connection, chain_id, address, nonce)
            last = attempts[-1]
            previous = FeeQuote(last.max_fee_per_gas, last.max_priority_fee_per_gas)
            if not is_valid_replacement(previous, fees):
                raise ReplacementUnderpriced(
                    "both fee caps must rise by at least 10 % over the transaction replaced",
                    chain_id=chain_id,
                    nonce=nonce,
                    previous_max_fee_per_gas=previous.max_fee_per_gas,
                    previous_max_priority_fee_per_gas=previous.max_priority_fee_per_gas,
                    max_fee_per_gas=fees.max_fee_per_gas,
                    max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
                )
            replaced = replace(current, raw_tx=raw_tx, tx_hash=tx_hash, updated_at=now)
            nonce_store.update_reservation(uow.connection, replaced)
            nonce_store.insert_attempt(
                uow.connection, _attempt(replaced, last.attempt + 1, fees, now)
            )
            uow.commit()
            return replaced

    def attempts(self, chain_id: int, address: str, nonce: int) -> list[TxAttempt]:
        """Every version signed for the nonce, original first (any of them may be mined)."""
        with self._uow() as uow:
            return nonce_store.attempts_for(
                uow.connection, chain_id, checksum_address(address), nonce
            )

    def stuck(self, chain_id: int, address: str, *, window: dt.timedelta) -> list[NonceReservation]:
        """Broadcast transactions neither mined nor replaced within `window`."""
        with self._uow() as uow:
            return nonce_store.broadcast_before(
                uow.connection, chain_id, checksum_address(address), self._clock() - window
            )

    def record_broadcast(self, chain_id: int, address: str, nonce: int) -> NonceReservation:
        """The signed transaction was handed to the node."""
        return self._move(chain_id, address, nonce, ReservationStatus.BROADCAST)

    def record_mined(self, chain_id: int, address: str, nonce: int) -> NonceReservation:
        """The transaction with this nonce is in a block."""
        return self._move(chain_id, address, nonce, ReservationStatus.MINED)

    def release(self, chain_id: int, address: str, ref: str) -> NonceReservation:
        """Give back an unsigned nonce; the next reservation takes it, leaving no gap."""
        address = checksum_address(address)
        with self._uow() as uow:
            now = self._clock()
            nonce_store.lock_counter(uow.connection, chain_id, address, 0, now)
            current = nonce_store.find_by_ref(uow.connection, chain_id, address, ref)
            if current is None:
                raise NonceStateConflict("no nonce is held for this ref", ref=ref)
            released = _moved(current, ReservationStatus.RELEASED, now, ref=None)
            nonce_store.update_reservation(uow.connection, released)
            uow.commit()
            return released

    def in_flight(self, chain_id: int, address: str) -> list[NonceReservation]:
        """Signed but not yet mined, lowest nonce first: what a restart must (re)broadcast."""
        with self._uow() as uow:
            return nonce_store.reservations_in(
                uow.connection, chain_id, checksum_address(address), _IN_FLIGHT
            )

    def observe_chain_nonce(self, chain_id: int, address: str, chain_nonce: int) -> int:
        """Move past nonces the chain has already used (e.g. after `nonce too low`); next nonce."""
        address = checksum_address(address)
        with self._uow() as uow:
            now = self._clock()
            next_nonce, seen = nonce_store.lock_counter(
                uow.connection, chain_id, address, chain_nonce, now
            )
            counter = (max(next_nonce, chain_nonce), max(seen, chain_nonce))
            nonce_store.save_counter(uow.connection, chain_id, address, counter, now)
            uow.commit()
            return counter[0]

    def _move(
        self, chain_id: int, address: str, nonce: int, status: ReservationStatus
    ) -> NonceReservation:
        return self._change(chain_id, address, nonce, lambda r: _moved(r, status, self._clock()))

    def _locked(self, uow: UnitOfWork, chain_id: int, address: str, nonce: int) -> NonceReservation:
        nonce_store.lock_counter(uow.connection, chain_id, address, 0, self._clock())
        current = nonce_store.find_by_nonce(uow.connection, chain_id, address, nonce)
        if current is None:
            raise NonceStateConflict("nonce was never reserved", chain_id=chain_id, nonce=nonce)
        return current

    @staticmethod
    def _known_attempt(uow: UnitOfWork, current: NonceReservation, raw_tx: bytes) -> bool:
        attempts = nonce_store.attempts_for(
            uow.connection, current.chain_id, current.address, current.nonce
        )
        return any(a.raw_tx == raw_tx for a in attempts)

    def _change(
        self,
        chain_id: int,
        address: str,
        nonce: int,
        change: Callable[[NonceReservation], NonceReservation],
    ) -> NonceReservation:
        address = checksum_address(address)
        with self._uow() as uow:
            current = self._locked(uow, chain_id, address, nonce)
            updated = change(current)
            if updated != current:
                nonce_store.update_reservation(uow.connection, updated)
                uow.commit()
            return updated


def _attempt(
    reservation: NonceReservation, number: int, fees: FeeQuote, now: dt.datetime
) -> TxAttempt:
    assert reservation.raw_tx is not None and reservation.tx_hash is not None
    return TxAttempt(
        chain_id=reservation.chain_id,
        address=reservation.address,
        nonce=reservation.nonce,
        attempt=number,
        tx_hash=reservation.tx_hash,
        raw_tx=reservation.raw_tx,
        max_fee_per_gas=fees.max_fee_per_gas,
        max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
        created_at=now,
    )


def _moved(
    current: NonceReservation,
    status: ReservationStatus,
    now: dt.datetime,
    **changes: Any,
) -> NonceReservation:
    if not check_can_transition(current.status, status):
        raise NonceStateConflict(
            f"a {current.status.value} nonce cannot become {status.value}",
            chain_id=current.chain_id,
            address=current.address,
            nonce=current.nonce,
        )
    return replace(current, status=status, updated_at=now, **changes)
