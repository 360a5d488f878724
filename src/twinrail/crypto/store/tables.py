"""The crypto context's tables: custody addresses, nonce reservations and the chain watcher."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from twinrail.platform.db import metadata
from twinrail.platform.types import Amount, UtcDateTime

__all__ = [
    "addresses",
    "nonce_counters",
    "nonce_reservations",
    "tx_attempts",
    "deposits",
    "watched_blocks",
    "watcher_checkpoints",
    "charges",
    "sweeps",
    "withdrawals",
]

addresses = Table(
    "crypto_addresses",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("purpose", String(16), nullable=False),
    Column("owner_ref", String(64), nullable=False),
    Column("chain_id", BigInteger, nullable=False),  # 0: every chain
    Column("key_store", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # one deposit address per account, one hot wallet per chain: concurrent assigners collide here
    UniqueConstraint("purpose", "owner_ref", "chain_id", name="uq_crypto_addresses_owner"),
    CheckConstraint("purpose IN ('hot', 'deposit')", name="purpose_known"),
)

nonce_counters = Table(
    "crypto_nonce_counters",
    metadata,
    Column("chain_id", BigInteger, nullable=False),
    Column("address", String(42), nullable=False),
    Column("next_nonce", BigInteger, nullable=False),
    # the chain's own count of mined transactions, as last seen: released nonces below it are gone
    Column("chain_nonce", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("chain_id", "address", name="pk_crypto_nonce_counters"),
    CheckConstraint("next_nonce >= 0", name="next_nonce_non_negative"),
)

nonce_reservations = Table(
    "crypto_nonce_reservations",
    metadata,
    Column("chain_id", BigInteger, nullable=False),
    Column("address", String(42), nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("ref", String(128), nullable=True),  # NULL while released
    Column("status", String(16), nullable=False),
    Column("raw_tx", LargeBinary, nullable=True),
    Column("tx_hash", String(66), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("chain_id", "address", "nonce", name="pk_crypto_nonce_reservations"),
    # one live nonce per purpose (a withdrawal id): a retried reserve returns the same nonce
    UniqueConstraint("chain_id", "address", "ref", name="uq_crypto_nonce_reservations_ref"),
    CheckConstraint(
        "status IN ('reserved', 'signed', 'broadcast', 'mined', 'released', 'superseded')",
        name="status_known",
    ),
    CheckConstraint("nonce >= 0", name="nonce_non_negative"),
)

tx_attempts = Table(
    "crypto_tx_attempts",
    metadata,
    Column("chain_id", BigInteger, nullable=False),
    Column("address", String(42), nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),  # 0 is the original, then each replacement
    Column("tx_hash", String(66), nullable=False),
    Column("raw_tx", LargeBinary, nullable=False),
    Column("max_fee_per_gas", BigInteger, nullable=False),
    Column("max_priority_fee_per_gas", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # every version ever signed for a nonce is kept: any one of them may be the one that is mined
    PrimaryKeyConstraint("chain_id", "address", "nonce", "attempt", name="pk_crypto_tx_attempts"),
    UniqueConstraint("tx_hash", name="uq_crypto_tx_attempts_tx_hash"),
)

deposits = Table(
    "crypto_deposits",
    metadata,
    Column("chain_id", BigInteger, nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("log_index", Integer, nullable=False),  # -1: a native transfer
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False),
    Column("address", String(42), nullable=False),
    Column("owner_ref", String(64), nullable=False),
    Column("asset", String(16), nullable=False),
    Column("token", String(42), nullable=True),
    Column("sender", String(42), nullable=False),
    Column("amount", Amount, nullable=False),
    Column("status", String(16), nullable=False),
    Column("incarnation", Integer, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    Column("credited_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    # the natural key: a log (or a native transaction) is recorded once, whatever the replays
    PrimaryKeyConstraint("chain_id", "tx_hash", "log_index", name="pk_crypto_deposits"),
    CheckConstraint(
        "status IN ('seen', 'confirming', 'credited', 'dropped', 'reversed')",
        name="status_known",
    ),
    Index("ix_crypto_deposits_chain_block", "chain_id", "block_number"),
)

watched_blocks = Table(
    "crypto_watched_blocks",
    metadata,
    Column("chain_id", BigInteger, nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("hash", String(66), nullable=False),
    Column("parent_hash", String(66), nullable=False),
    # recent blocks only: the watcher compares them with the node's to find reorgs
    PrimaryKeyConstraint("chain_id", "number", name="pk_crypto_watched_blocks"),
)

watcher_checkpoints = Table(
    "crypto_watcher_checkpoints",
    metadata,
    Column("chain_id", BigInteger, primary_key=True),
    Column("next_block", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

charges = Table(
    "crypto_charges",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("chain_id", BigInteger, nullable=False),
    Column("asset", String(16), nullable=False),
    Column("token", String(42), nullable=True),
    Column("amount", Amount, nullable=False),
    Column("address", String(42), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("paid", Amount, nullable=False),
    Column("reference", String(128), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    # a fresh address per charge: payments to it belong to this charge only
    UniqueConstraint("address", name="uq_crypto_charges_address"),
    CheckConstraint(
        "status IN ('new', 'pending', 'completed', 'expired', 'underpaid', 'overpaid', 'delayed')",
        name="status_known",
    ),
    Index("ix_crypto_charges_status_expires", "status", "expires_at"),
)

sweeps = Table(
    "crypto_sweeps",
    metadata,
    Column("id", String(64), primary_key=True),  # deterministic: chain, address, token, round
    Column("chain_id", BigInteger, nullable=False),
    Column("address", String(42), nullable=False),
    Column("token", String(42), nullable=False),
    Column("asset", String(16), nullable=False),
    Column("amount", Amount, nullable=False),
    Column("hot_wallet", String(42), nullable=False),
    Column("status", String(16), nullable=False),
    Column("top_up_wei", Amount, nullable=False),
    Column("top_up_tx", String(66), nullable=True),
    Column("sweep_tx", String(66), nullable=True),
    Column("fee_wei", Amount, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("status IN ('topping_up', 'sweeping', 'done', 'failed')", name="status_known"),
    Index("ix_crypto_sweeps_open", "chain_id", "status"),
)

withdrawals = Table(
    "crypto_withdrawals",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("account_id", String(128), nullable=False),  # the customer's ledger account
    Column("chain_id", BigInteger, nullable=False),
    Column("asset", String(16), nullable=False),
    Column("token", String(42), nullable=True),  # NULL: the native asset
    Column("amount", Amount, nullable=False),
    Column("to_address", String(42), nullable=False),
    Column("status", String(16), nullable=False),
    Column("hold_id", String(160), nullable=False),
    Column("reference", String(140), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("hot_address", String(42), nullable=True),
    Column("nonce", BigInteger, nullable=True),
    Column("tx_hash", String(66), nullable=True),
    Column("block_number", BigInteger, nullable=True),
    Column("block_hash", String(66), nullable=True),
    Column("gas_used", BigInteger, nullable=True),
    Column("effective_gas_price", Amount, nullable=True),
    Column("fee", Amount, nullable=True),
    Column("version", Integer, nullable=False),  # optimistic concurrency between workers
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "status IN ('held', 'signed', 'broadcast', 'mined', 'final', 'reverted', 'refused',"
        " 'failed')",
        name="status_known",
    ),
    Index("ix_crypto_withdrawals_chain_status", "chain_id", "status"),
)
