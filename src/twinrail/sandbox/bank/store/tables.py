"""The sandbox bank's tables. They live in the bank's own SQLite database (a bank is a separate
system from twinrail), so they hang off their own MetaData and are created by `seed`, not by the
platform's Alembic migrations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from twinrail.platform.types import UtcDateTime

__all__ = [
    "bank_metadata",
    "psus",
    "accounts",
    "transactions",
    "consents",
    "consent_usage",
    "authorisations",
    "payments",
    "low_value_counters",
    "trusted_beneficiaries",
    "periodic_payments",
]

bank_metadata = MetaData()

psus = Table(
    "psus",
    bank_metadata,
    Column("psu_id", String(64), primary_key=True),
    Column("name", String(140), nullable=False),
    Column("password", String(128), nullable=False),
    Column("otp", String(16), nullable=False),
)

accounts = Table(
    "accounts",
    bank_metadata,
    Column("resource_id", String(64), primary_key=True),
    Column("psu_id", String(64), ForeignKey("psus.psu_id"), nullable=False, index=True),
    Column("iban", String(34), nullable=False, unique=True),
    Column("currency", String(3), nullable=False),
    Column("name", String(70), nullable=False),
    Column("product", String(35), nullable=False),
    Column("cash_account_type", String(4), nullable=False),
    Column("bic", String(11), nullable=False),
    Column("owner_name", String(140), nullable=False),
    Column("opening_booked", Integer, nullable=False),
    Column("opening_date", Date, nullable=False),
)

transactions = Table(
    "transactions",
    bank_metadata,
    Column("transaction_id", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.resource_id"), nullable=False),
    Column("status", String(8), nullable=False),
    Column("booking_date", Date, nullable=True),
    Column("value_date", Date, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("counterparty_name", String(70), nullable=False),
    Column("counterparty_iban", String(34), nullable=False),
    Column("remittance", String(140), nullable=False),
    Column("entry_reference", String(35), nullable=False),
    Index("ix_transactions_account", "account_id", "value_date"),
)

consents = Table(
    "consents",
    bank_metadata,
    Column("consent_id", String(64), primary_key=True),
    Column("tpp_id", String(140), nullable=False, index=True),
    Column("psu_id", String(64), nullable=True),
    Column("status", String(24), nullable=False),
    Column("requested", JSON, nullable=False),
    Column("granted", JSON, nullable=True),
    Column("recurring", Boolean, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("frequency_per_day", Integer, nullable=False),
    Column("combined_service", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_action_date", Date, nullable=False),
    Column("sca_at", UtcDateTime, nullable=True),
)

# Unattended accesses per consent, per kind of data and account, per UTC day (frequencyPerDay).
consent_usage = Table(
    "consent_usage",
    bank_metadata,
    Column("consent_id", String(64), ForeignKey("consents.consent_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("access_key", String(100), primary_key=True),
    Column("count", Integer, nullable=False),
)

authorisations = Table(
    "authorisations",
    bank_metadata,
    Column("authorisation_id", String(64), primary_key=True),
    Column("resource_type", String(24), nullable=False),
    Column("resource_id", String(64), nullable=False, index=True),
    Column("tpp_id", String(140), nullable=False),
    Column("sca_status", String(24), nullable=False),
    Column("sca_approach", String(16), nullable=False),
    Column("psu_id", String(64), nullable=True),
    Column("failed_attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("redirect_uri", String(500), nullable=True),
    Column("nok_redirect_uri", String(500), nullable=True),
)


def _initiation_columns() -> list[Column[Any]]:
    """A payment initiation as the TPP sent it, and who sent it: the leading columns of single
    payments and of standing orders alike (new Column objects for each table)."""
    return [
        Column("payment_id", String(64), primary_key=True),
        Column("tpp_id", String(140), nullable=False, index=True),
        Column("product", String(40), nullable=False),
        Column("debtor_account_id", String(64), ForeignKey("accounts.resource_id"), nullable=False),
        Column("debtor_iban", String(34), nullable=False),
        Column("amount", Integer, nullable=False),
        Column("currency", String(3), nullable=False),
        Column("creditor_iban", String(34), nullable=False),
        Column("creditor_name", String(70), nullable=False),
        Column("end_to_end_id", String(35), nullable=False),
        Column("remittance", String(140), nullable=False),
    ]


payments = Table(
    "payments",
    bank_metadata,
    *_initiation_columns(),
    Column("status", String(4), nullable=False),
    Column("reject_reason", String(4), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("settle_at", UtcDateTime, nullable=True),
    Column("entry_id", String(64), nullable=True),
    # Settlement looks for accepted payments that are due: (status, settle_at).
    Index("ix_payments_due", "status", "settle_at"),
)

# SCA exemptions: each PSU's low-value payments exempted since the last SCA, and the
# beneficiaries the PSU trusts (RTS arts. 16 and 13).
low_value_counters = Table(
    "low_value_counters",
    bank_metadata,
    Column("psu_id", String(64), ForeignKey("psus.psu_id"), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("total", Integer, nullable=False),
)

trusted_beneficiaries = Table(
    "trusted_beneficiaries",
    bank_metadata,
    Column("psu_id", String(64), ForeignKey("psus.psu_id"), primary_key=True),
    Column("iban", String(34), primary_key=True),
)

# Standing orders (/v1/periodic-payments): the payment, its schedule and how far it has run.
periodic_payments = Table(
    "periodic_payments",
    bank_metadata,
    *_initiation_columns(),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("frequency", String(16), nullable=False),
    Column("day_of_execution", Integer, nullable=True),
    Column("execution_rule", String(10), nullable=True),
    Column("status", String(4), nullable=False, index=True),
    Column("reject_reason", String(4), nullable=True),
    Column("executions", Integer, nullable=False),
    Column("last_execution", Date, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
