"""pipeline: each transition carries the order version it made, unique per order; orders by state

A save appends the transitions it made; two writers starting from the same version would both
append the next version, so the unique (order_id, version) lets only the first commit. This is
the optimistic check the order's `UPDATE ... WHERE version = ?` used to make, moved to where it
costs no extra statement.

Revision ID: pipeline_0002
Revises: pipeline_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "pipeline_0002"
down_revision = "pipeline_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pipeline_order_transitions") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE pipeline_order_transitions SET version = ("
        " SELECT count(*) FROM pipeline_order_transitions AS earlier"
        " WHERE earlier.order_id = pipeline_order_transitions.order_id"
        " AND earlier.id <= pipeline_order_transitions.id)"
    )
    with op.batch_alter_table("pipeline_order_transitions") as batch:
        batch.alter_column("version", existing_type=sa.Integer(), nullable=False)
        batch.drop_index("ix_pipeline_order_transitions_order_id")
        batch.create_index(
            "ux_pipeline_order_transitions_order_id_version", ["order_id", "version"], unique=True
        )
    # The worker's follow-ups look for orders by state, least recently moved first.
    op.create_index(
        "ix_pipeline_payment_orders_state_updated_at",
        "pipeline_payment_orders",
        ["state", "updated_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_pipeline_payment_orders_state_updated_at", "pipeline_payment_orders")
    with op.batch_alter_table("pipeline_order_transitions") as batch:
        batch.drop_index("ux_pipeline_order_transitions_order_id_version")
        batch.create_index("ix_pipeline_order_transitions_order_id", ["order_id"])
        batch.drop_column("version")
