"""pipeline: payment orders and their transitions

Revision ID: pipeline_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twinrail.platform.types import Amount, UtcDateTime

revision = "pipeline_0001"
down_revision = "0001"
branch_labels = ("pipeline",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_payment_orders",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("asset", sa.String(12), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("source_account", sa.String(64), nullable=False),
        sa.Column("destination_account", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_payment_orders")),
    )
    op.create_index(
        "ix_pipeline_payment_orders_client_id_id", "pipeline_payment_orders", ["client_id", "id"]
    )
    op.create_table(
        "pipeline_order_transitions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=True),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_order_transitions")),
    )
    op.create_index(
        "ix_pipeline_order_transitions_order_id", "pipeline_order_transitions", ["order_id"]
    )


def downgrade() -> None:
    op.drop_table("pipeline_order_transitions")
    op.drop_table("pipeline_payment_orders")
