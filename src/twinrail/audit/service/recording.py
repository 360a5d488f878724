"""Writing to the audit trail inside another context's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from twinrail.audit.domain.record import AuditRecord
from twinrail.audit.store.tables import audit_entries
from twinrail.platform.bulk import insert_rows

__all__ = ["append_records"]


def append_records(conn: Connection, records: Sequence[AuditRecord]) -> None:
    """Append unsealed records in the caller's transaction; sealing happens after commit."""
    if not records:
        return
    insert_rows(
        conn,
        audit_entries,
        [
            {
                "occurred_at": r.occurred_at,
                "actor": r.actor,
                "action": r.action,
                "subject": r.subject,
                "outcome": r.outcome,
                "correlation_id": r.correlation_id,
                "details": r.details,
            }
            for r in records
        ],
    )
