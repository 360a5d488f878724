"""Writing to the audit trail inside another context's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from twinrail.audit.domain.record import AuditRecord
from twinrail.audit.store.tables import audit_entries
from twinrail.platform.bulk import StagedWrite, write_all

__all__ = ["append_records", "audit_write"]


def audit_write(records: Sequence[AuditRecord]) -> StagedWrite:
    """The unsealed rows for `records`, for a unit of work to write at commit."""
    return StagedWrite(
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


def append_records(conn: Connection, records: Sequence[AuditRecord]) -> None:
    """Append unsealed records in the caller's transaction; sealing happens after commit."""
    write_all(conn, [audit_write(records)])
