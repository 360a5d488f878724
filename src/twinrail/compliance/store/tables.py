"""The compliance context's tables: watch lists, screened parties, hits; KYC profiles,
approved movements and decisions."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

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
    # cases, KYC verifications, beneficial owners, false positives (issue 7, part 2)
    "kyc_verifications",
    "beneficial_owners",
    "false_positive_marks",
    "cases",
    "case_alerts",
    "case_notes",
    "case_decisions",
    # rules, risk, shadow mode, travel rule (issue 7, part 3)
    "movement_facts",
    "rule_evaluations",
    "risk_scores",
    "travel_rule_records",
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


# --- KYC verifications at a provider, beneficial owners, false positives, review cases --------

kyc_verifications = Table(
    "compliance_kyc_verifications",
    metadata,
    Column("verification_id", String(40), primary_key=True),
    Column("customer_id", String(200), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("provider_ref", String(200), nullable=False),
    Column("requested_tier", Integer, nullable=False),
    Column("status", String(24), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("documents_expire_at", UtcDateTime, nullable=True),
    UniqueConstraint("provider", "provider_ref", name="uq_compliance_kyc_verifications_ref"),
    Index("ix_compliance_kyc_verifications_customer", "customer_id", "started_at"),
    Index("ix_compliance_kyc_verifications_expiry", "status", "documents_expire_at"),
)

beneficial_owners = Table(
    "compliance_beneficial_owners",
    metadata,
    Column("business_id", String(200), primary_key=True),
    Column("owner_id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("birth_date", String(10), nullable=True),
    Column("country", String(2), nullable=True),
    Column("ownership_bps", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

false_positive_marks = Table(
    "compliance_false_positive_marks",
    metadata,
    Column("mark_id", String(40), primary_key=True),
    Column("customer_id", String(200), nullable=False),
    Column("party_id", String(300), nullable=False),
    Column("list_name", String(64), nullable=False),
    Column("entity_id", String(200), nullable=False),
    Column("entity_hash", String(32), nullable=False),
    Column("party_hash", String(32), nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("status", String(12), nullable=False),
    Column("proposed_by", String(200), nullable=False),
    Column("proposed_at", UtcDateTime, nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Index("ix_compliance_false_positive_marks_party", "party_id", "list_name", "entity_id"),
)

# `open_customer` is the customer id while the case is open and NULL once closed: the unique
# constraint keeps one open case per customer on both databases (NULLs never collide).
cases = Table(
    "compliance_cases",
    metadata,
    Column("case_id", String(40), primary_key=True),
    Column("customer_id", String(200), nullable=False),
    Column("open_customer", String(200), nullable=True, unique=True),
    Column("status", String(8), nullable=False),
    Column("assignee", String(200), nullable=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_compliance_cases_customer", "customer_id", "opened_at"),
)

case_alerts = Table(
    "compliance_case_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref", String(300), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("summary", JSON, nullable=False),
    Column("raised_by", String(200), nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("order_id", String(200), nullable=True),
    Column("client_id", String(200), nullable=True),
    Column("outcome", String(8), nullable=True),
    UniqueConstraint("case_id", "kind", "ref", name="uq_compliance_case_alerts_ref"),
)

case_notes = Table(
    "compliance_case_notes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", String(40), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("author", String(200), nullable=False),
    Column("body", String(4000), nullable=False),
    Column("uri", String(2000), nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_compliance_case_notes_case", "case_id", "id"),
)

case_decisions = Table(
    "compliance_case_decisions",
    metadata,
    Column("decision_id", String(40), primary_key=True),
    Column("case_id", String(40), nullable=False),
    Column("verdict", String(8), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("prepared_by", String(200), nullable=False),
    Column("prepared_at", UtcDateTime, nullable=False),
    Column("required", Integer, nullable=False),
    Column("approvals", JSON, nullable=False),
    Column("status", String(10), nullable=False),
    Index("ix_compliance_case_decisions_case", "case_id", "prepared_at"),
)


# Every decided movement as the rules see it (and inflows recorded without a decision): the
# history that velocity, structuring, rapid in-and-out, new-beneficiary and dormancy rules read.
movement_facts = Table(
    "compliance_movement_facts",
    metadata,
    Column("order_id", String(200), primary_key=True),
    Column("customer_id", String(200), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("order_type", String(24), nullable=False),
    Column("outcome", String(8), nullable=False),
    Column("eur_cents", BigInteger, nullable=False),
    Column("beneficiary", String(200), nullable=True),
    Column("rule_points", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_compliance_movement_facts_customer", "customer_id", "at"),
    Index("ix_compliance_movement_facts_beneficiary", "customer_id", "beneficiary"),
)

# One row per decision and mode: 'live' (what was decided) and 'shadow' (what a candidate rule
# set would have decided on the same inputs, never acted on).
rule_evaluations = Table(
    "compliance_rule_evaluations",
    metadata,
    Column("decision_id", String(40), primary_key=True),
    Column("mode", String(8), primary_key=True),
    Column("order_id", String(200), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("rule_set_version", String(40), nullable=False),
    Column("outcome", String(8), nullable=False),
    Column("live_outcome", String(8), nullable=False),
    Column("fired", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("risk", JSON, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Index("ix_compliance_rule_evaluations_version", "mode", "rule_set_version", "decided_at"),
)

# The latest risk score of each customer, with the factors that make it up.
risk_scores = Table(
    "compliance_risk_scores",
    metadata,
    Column("customer_id", String(200), primary_key=True),
    Column("score", Integer, nullable=False),
    Column("band", String(8), nullable=False),
    Column("factors", JSON, nullable=False),
    Column("rule_set_version", String(40), nullable=False),
    Column("decision_id", String(40), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# The IVMS101 originator/beneficiary data of a crypto transfer, as checked with its decision.
travel_rule_records = Table(
    "compliance_travel_rule_records",
    metadata,
    Column("decision_id", String(40), primary_key=True),
    Column("order_id", String(200), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("status", String(12), nullable=False),
    Column("record", JSON, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_compliance_travel_rule_records_order", "order_id"),
)
