"""The api context's tables (SQLAlchemy Core), on the shared metadata."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from twinrail.platform.db import metadata
from twinrail.platform.types import UtcDateTime

__all__ = [
    "clients",
    "api_keys",
    "signing_keys",
    "customers",
    "customer_accounts",
    "idempotency_keys",
]

clients = Table(
    "api_clients",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("secret_hash", String(64), nullable=False),  # sha256 of a 256-bit random secret
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled", Boolean, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(64), ForeignKey("api_clients.id"), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

signing_keys = Table(
    "api_signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_jwk", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime, nullable=True),
    Column("retire_after", UtcDateTime, nullable=True),
)

customers = Table(
    "api_customers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(64), ForeignKey("api_clients.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("details", JSON, nullable=False),
    Column("external_ref", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_api_customers_client_id_id", "client_id", "id"),
)

customer_accounts = Table(
    "api_customer_accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(64), ForeignKey("api_clients.id"), nullable=False),
    Column("customer_id", String(64), ForeignKey("api_customers.id"), nullable=False),
    Column("asset", String(12), nullable=False),
    Column("ledger_account_id", String(64), nullable=False, unique=True),
    Column("metadata", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_api_customer_accounts_client_id_id", "client_id", "id"),
)

# One row per (client, key): the primary key is what makes a key execute at most once.
idempotency_keys = Table(
    "api_idempotency_keys",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # in_progress | completed
    Column("status_code", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("content_type", String(100), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_api_idempotency_keys_expires_at", "expires_at"),
)
