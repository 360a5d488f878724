"""crypto: deposits, the watcher's recent block hashes and its checkpoint per chain

Revision ID: crypto_0002
Revises: crypto_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twinrail.platform.types import Amount, UtcDateTime

revision = "crypto_0002"
down_revision = "crypto_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crypto_deposits",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("owner_ref", sa.String(64), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("token", sa.String(42), nullable=True),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("incarnation", sa.Integer(), nullable=False),
        sa.Column("seen_at", UtcDateTime(), nullable=False),
        sa.Column("credited_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "chain_id", "tx_hash", "log_index", name=op.f("pk_crypto_deposits")
        ),
        sa.CheckConstraint(
            "status IN ('seen', 'confirming', 'credited', 'dropped', 'reversed')",
            name=op.f("ck_crypto_deposits_status_known"),
        ),
    )
    op.create_index(
        "ix_crypto_deposits_chain_block", "crypto_deposits", ["chain_id", "block_number"]
    )
    op.create_table(
        "crypto_watched_blocks",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(66), nullable=False),
        sa.Column("parent_hash", sa.String(66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "number", name=op.f("pk_crypto_watched_blocks")),
    )
    op.create_table(
        "crypto_watcher_checkpoints",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("next_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("pk_crypto_watcher_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("crypto_watcher_checkpoints")
    op.drop_table("crypto_watched_blocks")
    op.drop_index("ix_crypto_deposits_chain_block", table_name="crypto_deposits")
    op.drop_table("crypto_deposits")
