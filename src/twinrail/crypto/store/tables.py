"""The crypto context's tables: custody addresses and nonce reservations."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from twinrail.platform.db import metadata
from twinrail.platform.types import UtcDateTime

__all__ = ["addresses", "nonce_counters", "nonce_reservations", "tx_attempts"]

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
        "status IN ('reserved', 'signed', 'broadcast', 'mined', 'released')", name="status_known"
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
