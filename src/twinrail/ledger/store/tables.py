"""The ledger's tables: the event store (source of truth) and the projections kept beside it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)

from twinrail.platform.db import metadata
from twinrail.platform.types import Amount, BigId, UtcDateTime

__all__ = ["assets", "accounts", "transfers", "entries", "events"]


events = Table(
    "ledger_events",
    metadata,
    Column("position", BigId, primary_key=True, autoincrement=True),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("topic", String(100), nullable=False),
    Column("data", JSON, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    # optimistic concurrency: two writers appending the same version of a stream cannot both win
    UniqueConstraint("stream_id", "version", name="uq_ledger_events_stream_version"),
)

assets = Table(
    "ledger_assets",
    metadata,
    Column("code", String(12), primary_key=True),
    Column("scale", Integer, nullable=False),
    CheckConstraint("scale >= 0 AND scale <= 36", name="scale_range"),
)

accounts = Table(
    "ledger_accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("asset", String(12), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("normal_side", String(6), nullable=False),
    Column("debits_must_not_exceed_credits", Boolean, nullable=False),
    Column("credits_must_not_exceed_debits", Boolean, nullable=False),
    Column("overdraft_limit", Amount, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("debits_posted", Amount, nullable=False),
    Column("credits_posted", Amount, nullable=False),
    Column("debits_pending", Amount, nullable=False),
    Column("credits_pending", Amount, nullable=False),
    CheckConstraint("normal_side IN ('debit', 'credit')", name="normal_side"),
)

transfers = Table(
    "ledger_transfers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(10), nullable=False),
    Column("postings", JSON, nullable=False),
    Column("settled_postings", JSON, nullable=True),
    Column("effective_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("reference", String(200), nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("reverses", String(64), nullable=True, unique=True),  # reversed at most once
    Column("version", Integer, nullable=False),
    CheckConstraint("status IN ('posted', 'pending', 'voided', 'expired')", name="status"),
    Index(
        "ix_ledger_transfers_pending_expiry",
        "expires_at",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
)

# One row per posted line: the statement projection. Append-only (a trigger forbids change).
entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("transfer_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("side", String(6), nullable=False),
    Column("amount", Amount, nullable=False),
    Column("asset", String(12), nullable=False),
    Column("effective_at", UtcDateTime, nullable=False),
    Column("reference", String(200), nullable=False),
    CheckConstraint("side IN ('debit', 'credit')", name="side"),
    Index("ix_ledger_entries_account_time", "account_id", "effective_at", "id"),
    Index("ix_ledger_entries_transfer", "transfer_id"),
)
