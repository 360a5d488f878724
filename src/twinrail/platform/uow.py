"""The unit of work: one database transaction, plus the events and audit records it produced.

Events go to the outbox and records to the audit trail inside the same transaction as the state
change, just before commit; nothing below the service layer commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine

from twinrail.audit.domain.record import AuditRecord
from twinrail.audit.service.recording import audit_write
from twinrail.platform.bulk import StagedWrite, write_and_commit
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.events import DomainEvent
from twinrail.platform.outbox import OutboxMessage, message_from_event, outbox_write
from twinrail.platform.telemetry import tracer

__all__ = ["UnitOfWork", "StagingUnitOfWork", "Origin"]

_tracer = tracer(__name__)


@dataclass(frozen=True, slots=True)
class Origin:
    """Who asked for a change and under which request: carried into audit records and events."""

    actor: str
    correlation_id: str | None = None


class UnitOfWork:
    """A transaction on `engine`; rolls back unless `commit()` was called."""

    def __init__(
        self,
        engine: Engine,
        *,
        actor: str = "system",
        correlation_id: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.actor = actor
        self.correlation_id = correlation_id
        self.clock = clock
        self._connection: Connection | None = None
        self._messages: list[OutboxMessage] = []
        self._records: list[AuditRecord] = []

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._connection

    def __enter__(self) -> Self:
        self._connection = self.engine.connect()
        self._connection.begin()
        self._messages.clear()
        self._records.clear()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if self._connection.in_transaction():
                self._connection.rollback()
        finally:
            self._connection.close()
            self._connection = None

    def publish(self, events: Iterable[DomainEvent], *, origin: Origin | None = None) -> None:
        """Queue events for the outbox; they are written at commit."""
        now = self.clock()
        correlation_id = origin.correlation_id if origin else self.correlation_id
        self._messages.extend(message_from_event(e, now, correlation_id) for e in events)

    def audit(
        self,
        action: str,
        subject: str,
        *,
        outcome: str = "ok",
        origin: Origin | None = None,
        **details: Any,
    ) -> None:
        """Queue an audit record (by `origin`, else this unit's actor); written at commit."""
        self._records.append(
            AuditRecord(
                action=action,
                subject=subject,
                actor=origin.actor if origin else self.actor,
                occurred_at=self.clock(),
                outcome=outcome,
                correlation_id=origin.correlation_id if origin else self.correlation_id,
                details=details,
            )
        )

    def has_pending_writes(self) -> bool:
        """Whether commit() would write anything (events, audit records or staged rows)."""
        return bool(self._messages or self._records) or self.has_staged_rows()

    def has_staged_rows(self) -> bool:
        """Whether context stores staged rows; subclasses that stage writes override this."""
        return False

    def commit(self) -> None:
        """Write what the stores staged, the outbox and the audit records, then commit.

        On PostgreSQL the writes are one statement, sent with COMMIT in one round trip (see
        `platform.bulk`).
        """
        with _tracer.start_as_current_span(
            "uow.commit",
            attributes={
                "twinrail.outbox.messages": len(self._messages),
                "twinrail.audit.records": len(self._records),
            },
        ):
            write_and_commit(
                self.connection,
                [*self.staged_writes(), outbox_write(self._messages), audit_write(self._records)],
            )
        self._messages.clear()
        self._records.clear()

    def staged_writes(self) -> list[StagedWrite]:
        """Rows the context stores staged; subclasses whose stores stage writes override this."""
        return []

    def rollback(self) -> None:
        self.connection.rollback()
        self._messages.clear()
        self._records.clear()


class StagingUnitOfWork(UnitOfWork):
    """A unit of work whose commit also writes the rows its caller staged with `stage`."""

    def __enter__(self) -> Self:
        self._staged: list[StagedWrite] = []
        return super().__enter__()

    def stage(self, writes: Iterable[StagedWrite]) -> None:
        self._staged.extend(writes)

    def staged_writes(self) -> list[StagedWrite]:
        staged, self._staged = self._staged, []
        return staged

    def has_staged_rows(self) -> bool:
        return bool(self._staged)
