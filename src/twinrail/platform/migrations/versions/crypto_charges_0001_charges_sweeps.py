"""crypto: payment requests (charges) and token sweeps from deposit addresses

Revision ID: crypto_charges_0001
Revises: crypto_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twinrail.platform.types import Amount, UtcDateTime

revision = "crypto_charges_0001"
down_revision = "crypto_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crypto_charges",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("token", sa.String(42), nullable=True),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("paid", Amount(), nullable=False),
        sa.Column("reference", sa.String(128), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_charges")),
        sa.UniqueConstraint("address", name="uq_crypto_charges_address"),
        sa.CheckConstraint(
            "status IN ('new', 'pending', 'completed', 'expired', 'underpaid', 'overpaid', "
            "'delayed')",
            name=op.f("ck_crypto_charges_status_known"),
        ),
    )
    op.create_index("ix_crypto_charges_status_expires", "crypto_charges", ["status", "expires_at"])
    op.create_table(
        "crypto_sweeps",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("token", sa.String(42), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("hot_wallet", sa.String(42), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("top_up_wei", Amount(), nullable=False),
        sa.Column("top_up_tx", sa.String(66), nullable=True),
        sa.Column("sweep_tx", sa.String(66), nullable=True),
        sa.Column("fee_wei", Amount(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_sweeps")),
        sa.CheckConstraint(
            "status IN ('topping_up', 'sweeping', 'done', 'failed')",
            name=op.f("ck_crypto_sweeps_status_known"),
        ),
    )
    op.create_index("ix_crypto_sweeps_open", "crypto_sweeps", ["chain_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_crypto_sweeps_open", table_name="crypto_sweeps")
    op.drop_table("crypto_sweeps")
    op.drop_index("ix_crypto_charges_status_expires", table_name="crypto_charges")
    op.drop_table("crypto_charges")
