"""Alembic environment: runs on the connection handed over by `twinrail.platform.migrate`."""

from __future__ import annotations

from alembic import context

from twinrail.platform.migrate import target_metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through migrate.upgrade
    raise RuntimeError("run migrations through `twinrail db upgrade`")
context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
