"""compliance: KYC verifications, beneficial owners, false-positive marks, review cases

Revision ID: compliance_cases_0001
Revises: compliance_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twinrail.platform.types import UtcDateTime

revision = "compliance_cases_0001"
down_revision = "compliance_0002"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "compliance_kyc_verifications",
        sa.Column("verification_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("provider_ref", sa.String(200), nullable=False),
        sa.Column("requested_tier", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("documents_expire_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("verification_id", name="pk_compliance_kyc_verifications"),
        sa.UniqueConstraint("provider", "provider_ref", name="uq_compliance_kyc_verifications_ref"),
    )
    op.create_index(
        "ix_compliance_kyc_verifications_customer",
        "compliance_kyc_verifications",
        ["customer_id", "started_at"],
    )
    op.create_index(
        "ix_compliance_kyc_verifications_expiry",
        "compliance_kyc_verifications",
        ["status", "documents_expire_at"],
    )
    op.create_table(
        "compliance_beneficial_owners",
        sa.Column("business_id", sa.String(200), nullable=False),
        sa.Column("owner_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("birth_date", sa.String(10), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("ownership_bps", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("business_id", "owner_id", name="pk_compliance_beneficial_owners"),
        sa.CheckConstraint(
            "ownership_bps > 0 AND ownership_bps <= 10000",
            name="ck_compliance_beneficial_owners_share",
        ),
    )
    op.create_table(
        "compliance_false_positive_marks",
        sa.Column("mark_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("party_id", sa.String(300), nullable=False),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("entity_hash", sa.String(32), nullable=False),
        sa.Column("party_hash", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("proposed_at", UtcDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("mark_id", name="pk_compliance_false_positive_marks"),
        # four eyes in the database as well: whoever decides a mark did not propose it
        sa.CheckConstraint(
            "decided_by IS NULL OR decided_by <> proposed_by",
            name="ck_compliance_false_positive_marks_four_eyes",
        ),
    )
    op.create_index(
        "ix_compliance_false_positive_marks_party",
        "compliance_false_positive_marks",
        ["party_id", "list_name", "entity_id"],
    )
    op.create_table(
        "compliance_cases",
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("open_customer", sa.String(200), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_compliance_cases"),
        sa.UniqueConstraint("open_customer", name="uq_compliance_cases_open_customer"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_compliance_cases_status"),
    )
    op.create_index(
        "ix_compliance_cases_customer", "compliance_cases", ["customer_id", "opened_at"]
    )
    op.create_table(
        "compliance_case_alerts",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(300), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("raised_by", sa.String(200), nullable=False),
        sa.Column("raised_at", UtcDateTime(), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=True),
        sa.Column("client_id", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(8), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_compliance_case_alerts"),
        sa.UniqueConstraint("case_id", "kind", "ref", name="uq_compliance_case_alerts_ref"),
    )
    op.create_table(
        "compliance_case_notes",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("body", sa.String(4000), nullable=False),
        sa.Column("uri", sa.String(2000), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_compliance_case_notes"),
    )
    op.create_index("ix_compliance_case_notes_case", "compliance_case_notes", ["case_id", "id"])
    op.create_table(
        "compliance_case_decisions",
        sa.Column("decision_id", sa.String(40), nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("prepared_by", sa.String(200), nullable=False),
        sa.Column("prepared_at", UtcDateTime(), nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("approvals", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name="pk_compliance_case_decisions"),
        sa.CheckConstraint(
            "verdict IN ('allow', 'block')", name="ck_compliance_case_decisions_verdict"
        ),
        sa.CheckConstraint("required IN (1, 2)", name="ck_compliance_case_decisions_required"),
    )
    op.create_index(
        "ix_compliance_case_decisions_case",
        "compliance_case_decisions",
        ["case_id", "prepared_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_compliance_case_decisions_case", "compliance_case_decisions")
    op.drop_table("compliance_case_decisions")
    op.drop_index("ix_compliance_case_notes_case", "compliance_case_notes")
    op.drop_table("compliance_case_notes")
    op.drop_table("compliance_case_alerts")
    op.drop_index("ix_compliance_cases_customer", "compliance_cases")
    op.drop_table("compliance_cases")
    op.drop_index("ix_compliance_false_positive_marks_party", "compliance_false_positive_marks")
    op.drop_table("compliance_false_positive_marks")
    op.drop_index("ix_compliance_kyc_verifications_expiry", "compliance_kyc_verifications")
    op.drop_index("ix_compliance_kyc_verifications_customer", "compliance_kyc_verifications")
    op.drop_table("compliance_kyc_verifications")
    op.drop_table("compliance_beneficial_owners")
