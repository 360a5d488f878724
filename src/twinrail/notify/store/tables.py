"""The notify tables: endpoints (with encrypted secrets), deliveries and their attempts."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text

from twinrail.platform.db import metadata
from twinrail.platform.types import BigId, UtcDateTime

__all__ = ["endpoints", "deliveries", "attempts"]


# Secrets are symmetric HMAC keys, so they must be recoverable to sign: they are stored encrypted
# (AES-GCM, see adapters.secret_box), never in clear; the previous one signs until it expires.
endpoints = Table(
    "notify_endpoints",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("description", String(500), nullable=False),
    Column("status", String(16), nullable=False),
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text, nullable=True),
    Column("previous_secret_expires_at", UtcDateTime, nullable=True),
    Column("secret_rotated_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_notify_endpoints_client_id_id", "client_id", "id"),
)

deliveries = Table(
    "notify_deliveries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("endpoint_id", String(64), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("webhook_id", String(64), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_attempt_at", UtcDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("replay_of", String(64), nullable=True),
    Index("ix_notify_deliveries_due", "state", "next_attempt_at"),
    Index("ix_notify_deliveries_endpoint_id_id", "endpoint_id", "id"),
)

attempts = Table(
    "notify_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("delivery_id", String(64), nullable=False, index=True),
    Column("endpoint_id", String(64), nullable=False),
    Column("number", Integer, nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Integer, nullable=False),
    Column("error", String(500), nullable=True),
)
