"""The pipeline's tables: payment orders and every transition they made."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table

from twinrail.platform.db import metadata
from twinrail.platform.types import Amount, BigId, UtcDateTime

__all__ = ["payment_orders", "order_transitions"]

payment_orders = Table(
    "pipeline_payment_orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("asset", String(12), nullable=False),
    Column("amount", Amount, nullable=False),
    Column("source_account", String(64), nullable=False),
    Column("destination_account", String(64), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_pipeline_payment_orders_client_id_id", "client_id", "id"),
    Index("ix_pipeline_payment_orders_state_updated_at", "state", "updated_at"),  # follow-ups
)

order_transitions = Table(
    "pipeline_order_transitions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),  # the order's version this move produced
    Column("from_state", String(32), nullable=True),
    Column("to_state", String(32), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    # Two writers that started from one version both append its successor: one loses here.
    Index("ux_pipeline_order_transitions_order_id_version", "order_id", "version", unique=True),
)
