"""Custody addresses: a deposit address per customer account, a hot wallet per chain.

Each address has its own key, generated in the configured key store (labelled with the address
in the HSM). Assignment is idempotent per owner: asking again returns the same address. When
two workers race for the same owner, both may generate a key but only one insert wins the unique
key; the loser returns the winner's address and its key stays unused in the store.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from twinrail.crypto.domain.addresses import checksum_address
from twinrail.crypto.domain.custody import (
    ANY_CHAIN,
    AddressPurpose,
    CustodyAddress,
    CustodyAddressAssigned,
)
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.store import custody_store
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.uow import UnitOfWork

__all__ = ["AddressService", "TREASURY"]

TREASURY = "treasury"


class AddressService:
    """Assigns and looks up the addresses we hold keys for."""

    def __init__(
        self, engine: Engine, key_store: KeyStore, *, clock: Clock = utc_now, actor: str = "system"
    ) -> None:
        self._engine = engine
        self._keys = key_store
        self._clock = clock
        self._actor = actor

    def deposit_address(self, account_id: str) -> CustodyAddress:
        """The deposit address of a customer account (valid on every configured chain)."""
        return self._assign(AddressPurpose.DEPOSIT, account_id, ANY_CHAIN)

    def hot_wallet(self, chain_id: int) -> CustodyAddress:
        """The hot wallet that pays out on `chain_id`."""
        return self._assign(AddressPurpose.HOT, TREASURY, chain_id)

    def find(self, address: str) -> CustodyAddress | None:
        """Our record of `address`, or None if we hold no key for it."""
        with UnitOfWork(self._engine) as uow:
            return custody_store.find_by_address(uow.connection, checksum_address(address))

    def deposit_addresses(self) -> list[CustodyAddress]:
        """Every deposit address, oldest first (what the chain watcher listens to)."""
        with UnitOfWork(self._engine) as uow:
            return custody_store.list_addresses(uow.connection, AddressPurpose.DEPOSIT)

    def _existing(
        self, purpose: AddressPurpose, owner: str, chain_id: int
    ) -> CustodyAddress | None:
        with UnitOfWork(self._engine) as uow:
            return custody_store.find_by_owner(uow.connection, purpose, owner, chain_id)

    def _assign(self, purpose: AddressPurpose, owner: str, chain_id: int) -> CustodyAddress:
        existing = self._existing(purpose, owner, chain_id)
        if existing is not None:
            return existing
        # The key is made outside the transaction: an HSM call must not hold the database lock.
        record = CustodyAddress(
            address=self._keys.create_key(),
            purpose=purpose,
            owner_ref=owner,
            chain_id=chain_id,
            key_store=self._keys.kind,
            created_at=self._clock(),
        )
        try:
            with UnitOfWork(self._engine, actor=self._actor, clock=self._clock) as uow:
                custody_store.insert_address(uow.connection, record)
                uow.publish(
                    [
                        CustodyAddressAssigned(
                            address=record.address,
                            purpose=purpose.value,
                            owner_ref=owner,
                            chain_id=chain_id,
                            key_store=record.key_store,
                        )
                    ]
                )
                uow.audit(
                    "crypto.custody_address_assigned",
                    f"address:{record.address}",
                    purpose=purpose.value,
                    owner_ref=owner,
                    chain_id=chain_id,
                )
                uow.commit()
        except IntegrityError:
            winner = self._existing(purpose, owner, chain_id)
            if winner is None:
                raise
            return winner
        return record
