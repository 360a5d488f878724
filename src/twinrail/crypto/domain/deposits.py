"""Deposits seen on chain: their identity, life cycle, ledger transfer ids and alert events.

A deposit is one payment to an address we hold a key for, identified by
`(chain_id, tx_hash, log_index)`; native transfers use `NATIVE_LOG_INDEX`. Life cycle:
`seen` (recorded from a block) → `confirming` (waiting for finality) → `credited` (the ledger
holds it), or `dropped` (its block was orphaned before crediting) or `reversed` (its block was
orphaned after crediting; a compensating entry was posted). A dropped or reversed deposit that
reappears in the new chain starts over as a new *incarnation* with fresh ledger transfer ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

__all__ = [
    "NATIVE_LOG_INDEX",
    "DepositStatus",
    "BlockHeader",
    "ObservedBlock",
    "ObservedPayment",
    "Deposit",
    "IgnoredCounts",
    "DepositCredited",
    "DepositReversed",
    "credit_transfer_id",
    "reversal_transfer_id",
    "confirmed_height",
]

NATIVE_LOG_INDEX = -1  # a native transfer has no log; one per transaction, so -1 is unique


class DepositStatus(StrEnum):
    """Where a deposit stands; `credited` and `reversed` are the only states the ledger knows."""

    SEEN = "seen"
    CONFIRMING = "confirming"
    CREDITED = "credited"
    DROPPED = "dropped"
    REVERSED = "reversed"

    @property
    def open(self) -> bool:
        """Still waiting to be credited."""
        return self in (DepositStatus.SEEN, DepositStatus.CONFIRMING)


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """A block's place in the chain: the watcher keeps recent ones to detect reorgs."""

    number: int
    hash: str
    parent_hash: str


@dataclass(frozen=True, slots=True)
class ObservedPayment:
    """A payment found in a block: native (`token` None) or an ERC-20 Transfer log."""

    tx_hash: str
    log_index: int
    sender: str
    receiver: str
    amount: int
    token: str | None  # checksummed contract address; None for the native asset


@dataclass(frozen=True, slots=True)
class ObservedBlock:
    """A block with every payment in it (native transfers and Transfer logs)."""

    header: BlockHeader
    payments: tuple[ObservedPayment, ...]


@dataclass(frozen=True, slots=True)
class Deposit:
    """A recorded deposit to one of our addresses."""

    chain_id: int
    tx_hash: str
    log_index: int
    block_number: int
    block_hash: str
    address: str
    owner_ref: str
    asset: str
    token: str | None
    sender: str
    amount: int
    status: DepositStatus
    incarnation: int
    seen_at: dt.datetime
    credited_at: dt.datetime | None = None

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.chain_id, self.tx_hash, self.log_index)

    @property
    def credit_id(self) -> str:
        return credit_transfer_id(self.chain_id, self.tx_hash, self.log_index, self.incarnation)

    @property
    def reversal_id(self) -> str:
        return reversal_transfer_id(self.chain_id, self.tx_hash, self.log_index, self.incarnation)


@dataclass(slots=True)
class IgnoredCounts:
    """Payments the watcher skipped, by reason (for metrics)."""

    unknown_address: int = 0  # to an address we hold no key for
    unlisted_token: int = 0  # to one of ours, in a token the chain does not list
    failed_transaction: int = 0  # a native transfer whose transaction reverted
    no_account: int = 0  # the owner has no ledger account in that asset
    internal_transfer: int = 0  # our own sweep gas top-up (hot wallet to deposit address)


def _digest(chain_id: int, tx_hash: str, log_index: int, incarnation: int) -> str:
    # ledger ids hold 64 characters; a tx hash alone has 66, so the natural key is hashed
    natural = f"{chain_id}:{tx_hash.lower()}:{log_index}:{incarnation}"
    return hashlib.sha256(natural.encode()).hexdigest()[:56]


def credit_transfer_id(chain_id: int, tx_hash: str, log_index: int, incarnation: int) -> str:
    """The ledger idempotency key of a deposit's credit: the same deposit, the same transfer."""
    return "dep-" + _digest(chain_id, tx_hash, log_index, incarnation)


def reversal_transfer_id(chain_id: int, tx_hash: str, log_index: int, incarnation: int) -> str:
    """The ledger idempotency key of the entry that compensates an orphaned credit."""
    return "rev-" + _digest(chain_id, tx_hash, log_index, incarnation)


def confirmed_height(head: int, confirmations: int, tagged: int | None) -> int:
    """The highest block number that counts as final: the node's tag if given, else by depth.

    With `confirmations` N a block counts once N blocks (itself included) sit on the chain.
    """
    if tagged is not None:
        return tagged
    return head - max(confirmations, 1) + 1


def _stream_id(d: Deposit) -> str:
    return f"crypto-deposit-{d.chain_id}-{d.tx_hash}-{d.log_index}"


def _deposit_payload(d: Deposit) -> dict[str, Any]:
    return {
        "chain_id": d.chain_id,
        "tx_hash": d.tx_hash,
        "log_index": d.log_index,
        "block_number": d.block_number,
        "block_hash": d.block_hash,
        "address": d.address,
        "account_id": d.owner_ref,
        "asset": d.asset,
        "token": d.token,
        "amount": str(d.amount),
        "incarnation": d.incarnation,
    }


@dataclass(frozen=True, slots=True)
class DepositCredited:
    """A deposit reached finality and was credited to the customer's ledger account."""

    topic: ClassVar[str] = "crypto.deposit_credited"
    deposit: Deposit
    transfer_id: str
    ledger_account_id: str | None = None  # the account credited (the owner_ref maps to it)

    @property
    def stream_id(self) -> str:
        return _stream_id(self.deposit)

    @property
    def stream_version(self) -> int:
        return 2 * self.deposit.incarnation + 1

    def payload(self) -> dict[str, Any]:
        return {
            **_deposit_payload(self.deposit),
            "transfer_id": self.transfer_id,
            "ledger_account_id": self.ledger_account_id,
        }


@dataclass(frozen=True, slots=True)
class DepositReversed:
    """Alert: a credited deposit vanished in a reorg deeper than the confirmations; reversed."""

    topic: ClassVar[str] = "crypto.deposit_reversed"
    deposit: Deposit
    transfer_id: str
    reorg_depth: int
    ledger_account_id: str | None = None  # the account the reversal debits (the credit's)

    @property
    def stream_id(self) -> str:
        return _stream_id(self.deposit)

    @property
    def stream_version(self) -> int:
        return 2 * self.deposit.incarnation + 2

    def payload(self) -> dict[str, Any]:
        return {
            **_deposit_payload(self.deposit),
            "transfer_id": self.transfer_id,
            "ledger_account_id": self.ledger_account_id,
            "reorg_depth": self.reorg_depth,
            "severity": "alert",
        }
