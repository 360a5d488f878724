"""The audit trail table. Rows are appended unsealed; the sealer chains them in commit order."""

from __future__ import annotations

from sqlalchemy import JSON, Column, String, Table

from twinrail.platform.db import metadata
from twinrail.platform.types import BigId, UtcDateTime

__all__ = ["audit_entries"]


audit_entries = Table(
    "audit_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("correlation_id", String(100), nullable=True),
    Column("details", JSON, nullable=False),
    # set by the sealer, never by the writer: position in the chain and the chained hashes
    Column("seal_seq", BigId, nullable=True, unique=True),
    Column("prev_hash", String(64), nullable=True),
    Column("entry_hash", String(64), nullable=True),
)
