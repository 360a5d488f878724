"""Transactions as values: an unsigned EIP-1559 transfer or call, and its signed form."""

from __future__ import annotations

from dataclasses import dataclass

from twinrail.crypto.domain.addresses import checksum_address

__all__ = ["Eip1559Transaction", "SignedTransaction", "Receipt", "Log", "FeeQuote"]


@dataclass(frozen=True, slots=True)
class Eip1559Transaction:
    """A type-2 transaction before signing; `to` None deploys `data` as a contract."""

    chain_id: int
    sender: str
    nonce: int
    to: str | None
    value: int
    data: bytes
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "sender", checksum_address(self.sender))
        if self.to is not None:
            object.__setattr__(self, "to", checksum_address(self.to))
        if min(self.nonce, self.value, self.gas, self.max_priority_fee_per_gas) < 0:
            raise ValueError("negative transaction field")
        if self.max_priority_fee_per_gas > self.max_fee_per_gas:
            raise ValueError("priority fee above the max fee")


@dataclass(frozen=True, slots=True)
class FeeQuote:
    """EIP-1559 fee caps in wei per gas."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    """The raw bytes to broadcast and the hash the chain will know them by."""

    transaction: Eip1559Transaction
    raw: bytes
    tx_hash: str


@dataclass(frozen=True, slots=True)
class Log:
    """One event log from a receipt."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    log_index: int


@dataclass(frozen=True, slots=True)
class Receipt:
    """A mined transaction's outcome; `status` 1 succeeded, 0 reverted."""

    tx_hash: str
    status: int
    block_number: int
    block_hash: str
    gas_used: int
    effective_gas_price: int
    contract_address: str | None
    logs: tuple[Log, ...]

    @property
    def fee(self) -> int:
        """What the sender paid in wei: gasUsed × effectiveGasPrice."""
        return self.gas_used * self.effective_gas_price
