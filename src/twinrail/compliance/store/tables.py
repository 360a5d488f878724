"""The compliance context's tables: watch lists, screened parties, hits; KYC profiles,
approved movements and decisions."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Index, Integer, String, Table

from twinrail.platform.db import metadata
from twinrail.platform.types import Amount, BigId, UtcDateTime

__all__ = [
    "list_versions",
    "list_entities",
    "screened_parties",
    "screening_hits",
    "kyc_profiles",
    "approved_movements",
    "decisions",
]


# One row per load; exactly one 'active' row per list (the service flips them in one transaction).
list_versions = Table(
    "compliance_list_versions",
    metadata,
    Column("list_name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("format", String(16), nullable=False),
    Column("source", String(1000), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("entity_count", Integer, nullable=False),
    Column("changed_count", Integer, nullable=False),
    Column("removed_count", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
)

list_entities = Table(
    "compliance_list_entities",
    metadata,
    Column("list_name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("entity_id", String(200), primary_key=True),
    Column("content_hash", String(32), nullable=False),
    Column("data", JSON, nullable=False),
)

screened_parties = Table(
    "compliance_screened_parties",
    metadata,
    Column("party_id", String(200), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("birth_date", String(10), nullable=True),
    Column("country", String(2), nullable=True),
    Column("identifiers", JSON, nullable=False),
    Column("screened_at", UtcDateTime, nullable=False),
)

screening_hits = Table(
    "compliance_screening_hits",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("party_id", String(200), nullable=False),
    Column("list_name", String(64), nullable=False),
    Column("list_version", Integer, nullable=False),
    Column("entity_id", String(200), nullable=False),
    Column("score", Float, nullable=False),
    Column("origin", String(12), nullable=False),
    Column("hit", JSON, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_compliance_screening_hits_party", "party_id", "id"),
)

kyc_profiles = Table(
    "compliance_kyc_profiles",
    metadata,
    Column("customer_id", String(200), primary_key=True),
    Column("status", String(12), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# The movements a decision allowed, at their EUR value then: the history rolling limits sum.
approved_movements = Table(
    "compliance_approved_movements",
    metadata,
    Column("order_id", String(200), primary_key=True),
    Column("customer_id", String(200), nullable=False),
    Column("asset", String(12), nullable=False),
    Column("amount", Amount, nullable=False),
    Column("eur_cents", BigInteger, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_compliance_approved_movements_customer", "customer_id", "at"),
)

# Every decision with its inputs, reasons and versions: the answer to "why" years later.
decisions = Table(
    "compliance_decisions",
    metadata,
    Column("decision_id", String(40), primary_key=True),
    Column("order_id", String(200), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("outcome", String(8), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("rules_version", String(40), nullable=False),
    Column("limits_version", String(40), nullable=False),
    Column("list_versions", JSON, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Index("ix_compliance_decisions_order", "order_id"),
    Index("ix_compliance_decisions_customer", "customer_id", "decided_at"),
)
