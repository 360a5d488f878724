"""crypto: custody addresses, nonce counters, nonce reservations and transaction attempts

Revision ID: crypto_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twinrail.platform.types import UtcDateTime

revision = "crypto_0001"
down_revision = "0001"
branch_labels = ("crypto",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crypto_addresses",
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("owner_ref", sa.String(64), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("key_store", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_crypto_addresses")),
        sa.UniqueConstraint(
            "purpose", "owner_ref", "chain_id", name=op.f("uq_crypto_addresses_owner")
        ),
        sa.CheckConstraint(
            "purpose IN ('hot', 'deposit')", name=op.f("ck_crypto_addresses_purpose_known")
        ),
    )
    op.create_table(
        "crypto_nonce_counters",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        sa.Column("chain_nonce", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "address", name=op.f("pk_crypto_nonce_counters")),
        sa.CheckConstraint(
            "next_nonce >= 0", name=op.f("ck_crypto_nonce_counters_next_nonce_non_negative")
        ),
    )
    op.create_table(
        "crypto_nonce_reservations",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("ref", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raw_tx", sa.LargeBinary(), nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "chain_id", "address", "nonce", name=op.f("pk_crypto_nonce_reservations")
        ),
        sa.UniqueConstraint(
            "chain_id", "address", "ref", name=op.f("uq_crypto_nonce_reservations_ref")
        ),
        sa.CheckConstraint(
            "status IN ('reserved', 'signed', 'broadcast', 'mined', 'released')",
            name=op.f("ck_crypto_nonce_reservations_status_known"),
        ),
        sa.CheckConstraint(
            "nonce >= 0", name=op.f("ck_crypto_nonce_reservations_nonce_non_negative")
        ),
    )

    op.create_table(
        "crypto_tx_attempts",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("raw_tx", sa.LargeBinary(), nullable=False),
        sa.Column("max_fee_per_gas", sa.BigInteger(), nullable=False),
        sa.Column("max_priority_fee_per_gas", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "chain_id", "address", "nonce", "attempt", name=op.f("pk_crypto_tx_attempts")
        ),
        sa.UniqueConstraint("tx_hash", name=op.f("uq_crypto_tx_attempts_tx_hash")),
    )


def downgrade() -> None:
    op.drop_table("crypto_tx_attempts")
    op.drop_table("crypto_nonce_reservations")
    op.drop_table("crypto_nonce_counters")
    op.drop_table("crypto_addresses")
