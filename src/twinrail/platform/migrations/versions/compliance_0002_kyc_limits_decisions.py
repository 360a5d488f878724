"""compliance: KYC profiles, approved movements, decisions

Revision ID: compliance_0002
Revises: compliance_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twinrail.platform.types import Amount, UtcDateTime

revision = "compliance_0002"
down_revision = "compliance_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_kyc_profiles",
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_compliance_kyc_profiles"),
        sa.CheckConstraint("tier IN (0, 1, 2)", name="ck_compliance_kyc_profiles_tier"),
        sa.CheckConstraint(
            "status IN ('unverified', 'pending', 'verified', 'rejected', 'expired')",
            name="ck_compliance_kyc_profiles_status",
        ),
    )
    op.create_table(
        "compliance_approved_movements",
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("asset", sa.String(12), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("eur_cents", sa.BigInteger(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_compliance_approved_movements"),
        sa.CheckConstraint("eur_cents >= 0", name="ck_compliance_approved_movements_eur"),
    )
    op.create_index(
        "ix_compliance_approved_movements_customer",
        "compliance_approved_movements",
        ["customer_id", "at"],
    )
    op.create_table(
        "compliance_decisions",
        sa.Column("decision_id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("rules_version", sa.String(40), nullable=False),
        sa.Column("limits_version", sa.String(40), nullable=False),
        sa.Column("list_versions", sa.JSON(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name="pk_compliance_decisions"),
        sa.CheckConstraint(
            "outcome IN ('allow', 'review', 'block')", name="ck_compliance_decisions_outcome"
        ),
    )
    op.create_index("ix_compliance_decisions_order", "compliance_decisions", ["order_id"])
    op.create_index(
        "ix_compliance_decisions_customer", "compliance_decisions", ["customer_id", "decided_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_compliance_decisions_customer", "compliance_decisions")
    op.drop_index("ix_compliance_decisions_order", "compliance_decisions")
    op.drop_table("compliance_decisions")
    op.drop_index("ix_compliance_approved_movements_customer", "compliance_approved_movements")
    op.drop_table("compliance_approved_movements")
    op.drop_table("compliance_kyc_profiles")
