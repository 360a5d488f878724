"""Queries on the audit trail for the sealer and the verifier; rows leave only as domain values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, bindparam, case, func, select, update

from twinrail.audit.domain.chain import AuditEntry, ChainTail, Seal
from twinrail.audit.store.tables import audit_entries

__all__ = ["AuditStore", "AuditCounts", "SealConflict"]

_t = audit_entries.c


class SealConflict(RuntimeError):
    """Raised when an entry about to be sealed was sealed by someone else in the meantime."""


@dataclass(frozen=True, slots=True)
class AuditCounts:
    """How many entries are sealed and unsealed, and when the oldest unsealed one happened."""

    sealed: int
    unsealed: int
    oldest_unsealed_at: dt.datetime | None


class AuditStore:
    """The audit trail on one connection; the caller owns the transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def unsealed(self, limit: int) -> list[AuditEntry]:
        """Committed entries not sealed yet, oldest id first, at most `limit`."""
        query = select(audit_entries).where(_t.seal_seq.is_(None)).order_by(_t.id).limit(limit)
        return [_entry(row) for row in self.conn.execute(query).mappings()]

    def tail(self) -> ChainTail | None:
        """The sealed entry with the highest position, or None before the first seal."""
        query = (
            select(_t.seal_seq, _t.entry_hash)
            .where(_t.seal_seq.is_not(None))
            .order_by(_t.seal_seq.desc())
            .limit(1)
        )
        row = self.conn.execute(query).first()
        if row is None:
            return None
        # a tampered tail may have lost its hash; chaining onto "" keeps the break visible
        return ChainTail(row.seal_seq, row.entry_hash or "")

    def sealed_batches(self, batch_size: int) -> Iterator[list[AuditEntry]]:
        """Every sealed entry in seal_seq order, `batch_size` at a time (keyset pages)."""
        after: int | None = None
        while True:
            query = select(audit_entries).where(_t.seal_seq.is_not(None))
            if after is not None:
                query = query.where(_t.seal_seq > after)
            query = query.order_by(_t.seal_seq).limit(batch_size)
            batch = [_entry(row) for row in self.conn.execute(query).mappings()]
            if not batch:
                return
            yield batch
            after = batch[-1].seal_seq

    def counts(self) -> AuditCounts:
        """Sealed and unsealed totals, in one pass."""
        unsealed_at = case((_t.seal_seq.is_(None), _t.occurred_at))
        query = select(func.count(), func.count(_t.seal_seq), func.min(unsealed_at))
        total, sealed, oldest = self.conn.execute(query).one()
        return AuditCounts(sealed, total - sealed, oldest)

    def apply_seals(self, seals: Sequence[Seal]) -> None:
        """Write `seals` onto entries that are still unsealed; SealConflict if one is not."""
        if not seals:
            return
        statement = (
            update(audit_entries)
            .where(_t.id == bindparam("b_id"), _t.seal_seq.is_(None))
            .values(
                seal_seq=bindparam("b_seq"),
                prev_hash=bindparam("b_prev"),
                entry_hash=bindparam("b_hash"),
            )
        )
        params = [
            {"b_id": s.entry_id, "b_seq": s.seal_seq, "b_prev": s.prev_hash, "b_hash": s.entry_hash}
            for s in seals
        ]
        result = self.conn.execute(statement, params)
        if self.conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(seals):
            raise SealConflict(
                f"{len(seals) - result.rowcount} of {len(seals)} entries were sealed meanwhile"
            )


def _entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        occurred_at=row["occurred_at"],
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        outcome=row["outcome"],
        correlation_id=row["correlation_id"],
        details=row["details"],
        seal_seq=row["seal_seq"],
        prev_hash=row["prev_hash"],
        entry_hash=row["entry_hash"],
    )
