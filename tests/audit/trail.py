"""Helpers for audit tests: append entries the way services do, and read or forge rows directly."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from twinrail.audit.domain.chain import AuditEntry
from twinrail.audit.store.tables import audit_entries
from twinrail.platform.uow import UnitOfWork

_t = audit_entries.c


def append_entries(engine: Engine, count: int, *, actor: str = "alice") -> None:
    """Commit `count` units of work, each auditing one action."""
    for index in range(count):
        with UnitOfWork(engine, actor=actor, correlation_id=f"req-{uuid.uuid4().hex}") as uow:
            uow.audit("test.thing_done", f"thing:{index}", index=index, tags={"b": 2, "a": 1})
            uow.commit()


def entry_at(engine: Engine, seal_seq: int) -> AuditEntry:
    """The entry sealed at `seal_seq`, read straight from the table."""
    with engine.connect() as conn:
        row = conn.execute(select(audit_entries).where(_t.seal_seq == seal_seq)).mappings().one()
    return AuditEntry(**dict(row))


def all_entries(engine: Engine) -> list[AuditEntry]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_entries).order_by(_t.id)).mappings().all()
    return [AuditEntry(**dict(row)) for row in rows]


def tamper_update(engine: Engine, seal_seq: int, **values: Any) -> None:
    """Change a sealed row in place, as someone with database access could."""
    with engine.begin() as conn:
        conn.execute(update(audit_entries).where(_t.seal_seq == seal_seq).values(**values))


def tamper_delete(engine: Engine, seal_seq: int) -> None:
    with engine.begin() as conn:
        conn.execute(delete(audit_entries).where(_t.seal_seq == seal_seq))


def tamper_insert(engine: Engine, **values: Any) -> None:
    """Insert a forged row; unspecified content gets plausible values."""
    row: dict[str, Any] = {
        "occurred_at": entry_at(engine, 1).occurred_at,
        "actor": "mallory",
        "action": "ledger.post_transfer",
        "subject": "transfer:forged",
        "outcome": "ok",
        "correlation_id": None,
        "details": {"events": 1},
    }
    row.update(values)
    with engine.begin() as conn:
        conn.execute(insert(audit_entries).values(**row))


def shift_positions(engine: Engine, from_seq: int, by: int) -> None:
    """Renumber every sealed row at or after `from_seq` by `by`, keeping positions unique."""
    with engine.begin() as conn:
        seqs = conn.scalars(
            select(_t.seal_seq).where(_t.seal_seq >= from_seq).order_by(_t.seal_seq)
        ).all()
        for seq in reversed(seqs) if by > 0 else seqs:
            conn.execute(update(audit_entries).where(_t.seal_seq == seq).values(seal_seq=seq + by))
