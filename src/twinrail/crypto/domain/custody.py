"""Addresses we hold keys for: a hot wallet per chain, a deposit address per customer account."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from twinrail.crypto.domain.addresses import checksum_address

__all__ = ["ANY_CHAIN", "AddressPurpose", "CustodyAddress", "CustodyAddressAssigned"]

ANY_CHAIN = 0  # an EVM key is valid on every chain; deposit addresses are not chain-specific


class AddressPurpose(StrEnum):
    """Why we hold the key: paying out (hot) or receiving for one customer account (deposit)."""

    HOT = "hot"
    DEPOSIT = "deposit"


@dataclass(frozen=True, slots=True)
class CustodyAddress:
    """An address, what it is for, whose it is, and where its key lives (`key_store` kind)."""

    address: str
    purpose: AddressPurpose
    owner_ref: str  # the ledger account id for deposits, "treasury" for hot wallets
    chain_id: int  # ANY_CHAIN for deposit addresses
    key_store: str
    created_at: dt.datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", checksum_address(self.address))


@dataclass(frozen=True, slots=True)
class CustodyAddressAssigned:
    """A new custody address was bound to its purpose and owner."""

    topic: ClassVar[str] = "crypto.custody_address_assigned"
    address: str
    purpose: str
    owner_ref: str
    chain_id: int
    key_store: str

    @property
    def stream_id(self) -> str:
        return f"crypto-address-{self.address}"

    @property
    def stream_version(self) -> int:
        return 1

    def payload(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "purpose": self.purpose,
            "owner_ref": self.owner_ref,
            "chain_id": self.chain_id,
            "key_store": self.key_store,
        }
