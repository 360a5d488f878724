"""crypto: withdrawals, from the ledger hold to the final transaction

Revision ID: crypto_0003
Revises: crypto_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twinrail.platform.types import Amount, UtcDateTime

revision = "crypto_0003"
down_revision = "crypto_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crypto_withdrawals",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("token", sa.String(42), nullable=True),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("to_address", sa.String(42), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("hold_id", sa.String(160), nullable=False),
        sa.Column("reference", sa.String(140), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("hot_address", sa.String(42), nullable=True),
        sa.Column("nonce", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("effective_gas_price", Amount(), nullable=True),
        sa.Column("fee", Amount(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_withdrawals")),
        sa.CheckConstraint(
            "status IN ('held', 'signed', 'broadcast', 'mined', 'final', 'reverted', 'refused',"
            " 'failed')",
            name=op.f("ck_crypto_withdrawals_status_known"),
        ),
    )
    op.create_index(
        "ix_crypto_withdrawals_chain_status", "crypto_withdrawals", ["chain_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_crypto_withdrawals_chain_status", table_name="crypto_withdrawals")
    op.drop_table("crypto_withdrawals")
