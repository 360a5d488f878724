"""Verifying the whole audit chain, streamed in batches, against one consistent snapshot.

The check runs in a single read transaction (REPEATABLE READ on PostgreSQL, a WAL read snapshot
on SQLite) so that the counts and the chain describe the same moment while sealers and writers
carry on; it holds no lock either of them waits for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from twinrail.audit.domain.chain import AuditEntry, verify_chain
from twinrail.audit.store.audit_store import AuditStore
from twinrail.platform.db import READ_ONLY

__all__ = ["VerificationReport", "verify", "ProgressCallback"]

ProgressCallback = Callable[[int, int], None]  # (entries checked so far, sealed entries in all)


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """The state of the audit trail: whether its chain holds and, if not, where it first breaks.

    `tail_seal_seq` and `tail_hash` describe the verified chain's last entry (None when broken);
    recording them outside the database lets a later run notice a truncated or rewritten tail.
    """

    ok: bool
    sealed: int
    unsealed: int
    checked: int
    tail_seal_seq: int | None = None
    tail_hash: str | None = None
    oldest_unsealed_at: dt.datetime | None = None
    first_broken_seal_seq: int | None = None
    first_broken_entry_id: int | None = None
    break_kind: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (datetimes as ISO strings)."""
        oldest = self.oldest_unsealed_at.isoformat() if self.oldest_unsealed_at else None
        return {
            "ok": self.ok,
            "sealed": self.sealed,
            "unsealed": self.unsealed,
            "checked": self.checked,
            "tail_seal_seq": self.tail_seal_seq,
            "tail_hash": self.tail_hash,
            "oldest_unsealed_at": oldest,
            "first_broken_seal_seq": self.first_broken_seal_seq,
            "first_broken_entry_id": self.first_broken_entry_id,
            "break_kind": self.break_kind,
            "reason": self.reason,
        }


def verify(
    engine: Engine, *, batch_size: int = 5_000, on_progress: ProgressCallback | None = None
) -> VerificationReport:
    """Check every sealed entry in seal_seq order; report counts, the tail and the first break."""
    with engine.connect() as conn:
        options: dict[str, Any] = dict(READ_ONLY)
        if conn.dialect.name == "postgresql":
            options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        conn = conn.execution_options(**options)
        with conn.begin():
            store = AuditStore(conn)
            counts = store.counts()
            batches = store.sealed_batches(batch_size)
            verdict = verify_chain(_reporting(batches, counts.sealed, on_progress))
    first_break = verdict.first_break
    tail = verdict.tail if verdict.ok else None  # a broken chain has no trustworthy tail
    return VerificationReport(
        ok=verdict.ok,
        sealed=counts.sealed,
        unsealed=counts.unsealed,
        checked=verdict.checked,
        tail_seal_seq=tail.seal_seq if tail else None,
        tail_hash=tail.entry_hash if tail else None,
        oldest_unsealed_at=counts.oldest_unsealed_at,
        first_broken_seal_seq=first_break.seal_seq if first_break else None,
        first_broken_entry_id=first_break.entry_id if first_break else None,
        break_kind=first_break.kind.value if first_break else None,
        reason=first_break.reason if first_break else None,
    )


def _reporting(
    batches: Iterable[list[AuditEntry]], total: int, on_progress: ProgressCallback | None
) -> Iterator[AuditEntry]:
    """Flatten `batches`, telling `on_progress` after each one is handed over."""
    done = 0
    for batch in batches:
        yield from batch
        done += len(batch)
        if on_progress is not None:
            on_progress(done, total)
