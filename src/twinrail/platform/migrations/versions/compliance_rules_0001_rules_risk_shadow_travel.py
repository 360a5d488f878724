"""compliance: movement facts for the rules, live and shadow rule evaluations, customer risk
scores, travel-rule records

Revision ID: compliance_rules_0001
Revises: compliance_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twinrail.platform.types import UtcDateTime

revision = "compliance_rules_0001"
down_revision = "compliance_0002"
branch_labels = None
depends_on = None

_OUTCOMES = "('allow', 'review', 'block')"


def upgrade() -> None:
    op.create_table(
        "compliance_movement_facts",
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("order_type", sa.String(24), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("eur_cents", sa.BigInteger(), nullable=False),
        sa.Column("beneficiary", sa.String(200), nullable=True),
        sa.Column("rule_points", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_compliance_movement_facts"),
        sa.CheckConstraint("direction IN ('in', 'out')", name="ck_compliance_movement_facts_dir"),
        sa.CheckConstraint(f"outcome IN {_OUTCOMES}", name="ck_compliance_movement_facts_outcome"),
        sa.CheckConstraint("eur_cents >= 0", name="ck_compliance_movement_facts_eur"),
    )
    op.create_index(
        "ix_compliance_movement_facts_customer", "compliance_movement_facts", ["customer_id", "at"]
    )
    op.create_index(
        "ix_compliance_movement_facts_beneficiary",
        "compliance_movement_facts",
        ["customer_id", "beneficiary"],
    )
    op.create_table(
        "compliance_rule_evaluations",
        sa.Column("decision_id", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("rule_set_version", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("live_outcome", sa.String(8), nullable=False),
        sa.Column("fired", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("risk", sa.JSON(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", "mode", name="pk_compliance_rule_evaluations"),
        sa.CheckConstraint(
            "mode IN ('live', 'shadow')", name="ck_compliance_rule_evaluations_mode"
        ),
        sa.CheckConstraint(
            f"outcome IN {_OUTCOMES}", name="ck_compliance_rule_evaluations_outcome"
        ),
    )
    op.create_index(
        "ix_compliance_rule_evaluations_version",
        "compliance_rule_evaluations",
        ["mode", "rule_set_version", "decided_at"],
    )
    op.create_table(
        "compliance_risk_scores",
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(8), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("rule_set_version", sa.String(40), nullable=False),
        sa.Column("decision_id", sa.String(40), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_compliance_risk_scores"),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name="ck_compliance_risk_scores_score"),
    )
    op.create_table(
        "compliance_travel_rule_records",
        sa.Column("decision_id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name="pk_compliance_travel_rule_records"),
    )
    op.create_index(
        "ix_compliance_travel_rule_records_order", "compliance_travel_rule_records", ["order_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_compliance_travel_rule_records_order", "compliance_travel_rule_records")
    op.drop_table("compliance_travel_rule_records")
    op.drop_table("compliance_risk_scores")
    op.drop_index("ix_compliance_rule_evaluations_version", "compliance_rule_evaluations")
    op.drop_table("compliance_rule_evaluations")
    op.drop_index("ix_compliance_movement_facts_beneficiary", "compliance_movement_facts")
    op.drop_index("ix_compliance_movement_facts_customer", "compliance_movement_facts")
    op.drop_table("compliance_movement_facts")
