"""compliance: watch-list versions and entities, screened parties, screening hits

Revision ID: compliance_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twinrail.platform.types import UtcDateTime

revision = "compliance_0001"
down_revision = "0001"
branch_labels = ("compliance",)
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "compliance_list_versions",
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("entity_count", sa.Integer(), nullable=False),
        sa.Column("changed_count", sa.Integer(), nullable=False),
        sa.Column("removed_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("loaded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("list_name", "version", name="pk_compliance_list_versions"),
    )
    op.create_table(
        "compliance_list_entities",
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "list_name", "version", "entity_id", name="pk_compliance_list_entities"
        ),
    )
    op.create_table(
        "compliance_screened_parties",
        sa.Column("party_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("birth_date", sa.String(10), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("screened_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("party_id", name="pk_compliance_screened_parties"),
    )
    op.create_table(
        "compliance_screening_hits",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("party_id", sa.String(200), nullable=False),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("list_version", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("hit", sa.JSON(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_compliance_screening_hits"),
    )
    op.create_index(
        "ix_compliance_screening_hits_party", "compliance_screening_hits", ["party_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_compliance_screening_hits_party", "compliance_screening_hits")
    for table in (
        "compliance_screening_hits",
        "compliance_screened_parties",
        "compliance_list_entities",
        "compliance_list_versions",
    ):
        op.drop_table(table)
