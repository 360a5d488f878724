"""The ledger's application API. Each write is one unit of work: load, decide, save, commit.

Rejections are audited in a transaction of their own after the rollback, so the ledger stays
exactly as it was while the attempt is still on record.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from twinrail.ledger.domain.book import Book, Outcome
from twinrail.ledger.domain.commands import (
    CloseAccount,
    DefineAsset,
    OpenAccount,
    PostPendingTransfer,
    PostTransfer,
    ReverseTransfer,
    VoidPendingTransfer,
)
from twinrail.ledger.domain.errors import (
    BatchRejected,
    ConcurrentUpdate,
    HoldNotPending,
    LedgerRejection,
    StoreUnavailable,
    UnknownAccount,
    UnknownTransfer,
)
from twinrail.ledger.domain.model import Account, Balance, Totals, Transfer
from twinrail.ledger.domain.money import Asset
from twinrail.ledger.service.retry import MAX_ATTEMPTS, backoff, is_retryable
from twinrail.ledger.service.statements import (
    StatementPage,
    TransferPage,
    build_statement,
    build_transfer_page,
)
from twinrail.ledger.service.unit_of_work import LedgerUnitOfWork
from twinrail.ledger.store.ledger_store import LedgerStore
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.platform.telemetry import tracer
from twinrail.platform.uow import Origin

__all__ = ["LedgerService", "BatchItemResult", "BulkCommand"]

T = TypeVar("T")
W = TypeVar("W", bound=Callable[..., Any])

_tracer = tracer(__name__)


def _traced(write: W) -> W:
    """One span per ledger write, named by its action (`ledger.place_hold`, ...)."""

    @functools.wraps(write)
    def traced(self: Any, action: str, subject: str, *args: Any, **kwargs: Any) -> Any:
        with _tracer.start_as_current_span(action, attributes={"twinrail.subject": subject}):
            return write(self, action, subject, *args, **kwargs)

    return traced  # type: ignore[return-value]


BulkCommand = PostTransfer | PostPendingTransfer | VoidPendingTransfer


def _apply(book: Book, cmd: BulkCommand) -> Outcome:
    if isinstance(cmd, PostTransfer):
        return book.post_transfer(cmd)
    if isinstance(cmd, PostPendingTransfer):
        return Outcome(book.post_pending(cmd), replayed=False)
    return Outcome(book.void_pending(cmd), replayed=False)


def _action_of(cmd: BulkCommand) -> tuple[str, str]:
    """The audit action and subject of a bulk command, as its single-command method has them."""
    if isinstance(cmd, PostTransfer):
        return "ledger.post_transfer", f"transfer:{cmd.id}"
    if isinstance(cmd, PostPendingTransfer):
        return "ledger.post_hold", f"transfer:{cmd.hold_id}"
    return "ledger.void_hold", f"transfer:{cmd.hold_id}"


@dataclass(frozen=True, slots=True)
class BatchItemResult:
    """One item of a bulk batch: its outcome, or the rejection that skipped it."""

    index: int
    outcome: Outcome | None = None
    error: LedgerRejection | None = None


class LedgerService:
    """Assets, accounts, transfers, holds and their queries, over one database."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = utc_now,
        actor: str = "system",
        correlation_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.actor = actor
        self.correlation_id = correlation_id

    def acting_as(self, actor: str, correlation_id: str | None = None) -> LedgerService:
        """The same service, recording `actor` and `correlation_id` in the audit trail."""
        return LedgerService(
            self.engine, clock=self.clock, actor=actor, correlation_id=correlation_id
        )

    def _uow(self) -> LedgerUnitOfWork:
        return LedgerUnitOfWork(
            self.engine, actor=self.actor, correlation_id=self.correlation_id, clock=self.clock
        )

    # writes

    def define_asset(self, cmd: DefineAsset) -> Asset:
        return self._write(
            "ledger.define_asset",
            f"asset:{cmd.code}",
            lambda b: b.define_asset(cmd),
            with_assets=True,
        )

    def open_account(self, cmd: OpenAccount) -> Account:
        return self._write(
            "ledger.open_account",
            f"account:{cmd.id}",
            lambda b: b.open_account(cmd),
            accounts=[cmd.id],
            with_assets=True,
        )

    def close_account(self, cmd: CloseAccount) -> Account:
        return self._write(
            "ledger.close_account",
            f"account:{cmd.id}",
            lambda b: b.close_account(cmd),
            accounts=[cmd.id],
        )

    def post_transfer(self, cmd: PostTransfer) -> Outcome:
        """Post (or hold) one transfer; replaying the same id and body returns the original."""
        action = "ledger.place_hold" if cmd.pending else "ledger.post_transfer"
        return self._write(
            action,
            f"transfer:{cmd.id}",
            lambda b: b.post_transfer(cmd),
            accounts=[p.account_id for p in cmd.postings],
            new_ids=[cmd.id],
        )

    def post_pending(self, cmd: PostPendingTransfer) -> Transfer:
        return self._write(
            "ledger.post_hold",
            f"transfer:{cmd.hold_id}",
            lambda b: b.post_pending(cmd),
            transfers=[cmd.hold_id],
        )

    def void_pending(self, cmd: VoidPendingTransfer) -> Transfer:
        return self._write(
            "ledger.void_hold",
            f"transfer:{cmd.hold_id}",
            lambda b: b.void_pending(cmd),
            transfers=[cmd.hold_id],
        )

    def reverse_transfer(self, cmd: ReverseTransfer) -> Outcome:
        return self._write(
            "ledger.reverse_transfer",
            f"transfer:{cmd.id}",
            lambda b: b.reverse_transfer(cmd),
            transfers=[cmd.original_id],
            new_ids=[cmd.id],
        )

    def post_linked_batch(self, cmds: Sequence[PostTransfer]) -> list[Outcome]:
        """Post every transfer or none: the first rejection rejects the batch (BatchRejected)."""

        def decide(book: Book) -> list[Outcome]:
            outcomes = []
            for index, cmd in enumerate(cmds):
                try:
                    outcomes.append(book.post_transfer(cmd))
                except LedgerRejection as exc:
                    raise BatchRejected(index, exc) from exc
            return outcomes

        return self._write(
            "ledger.post_linked_batch",
            f"batch:{cmds[0].id if cmds else '-'}",
            decide,
            accounts=[p.account_id for c in cmds for p in c.postings],
            new_ids=[c.id for c in cmds],
            details={"size": len(cmds)},
        )

    def post_bulk(
        self, cmds: Sequence[BulkCommand], origins: Sequence[Origin] | None = None
    ) -> list[BatchItemResult]:
        """Apply each command on its own merits in one commit; report per item.

        The commands are new transfers (holds among them) and posts or voids of holds, so that
        both halves of a two-phase transfer can share commits with other callers' work.
        `origins` (one per command) name who asked for each, so that commands from different
        callers sharing a commit (group commit) are each audited and published under their own
        actor and correlation id.
        """
        spans: list[tuple[int, int]] = []

        def decide(book: Book) -> list[BatchItemResult]:
            results = []
            for index, cmd in enumerate(cmds):
                start = len(book.events)
                try:
                    results.append(BatchItemResult(index, outcome=_apply(book, cmd)))
                except LedgerRejection as exc:
                    results.append(BatchItemResult(index, error=exc))
                spans.append((start, len(book.events)))
            return results

        def record(uow: LedgerUnitOfWork, book: Book, results: list[BatchItemResult]) -> None:
            for result, (start, end) in zip(results, spans, strict=True):
                origin = origins[result.index] if origins else None
                action, subject = _action_of(cmds[result.index])
                if result.error is not None:
                    uow.audit(
                        action, subject, outcome="rejected", origin=origin,
                        error=result.error.to_dict(),
                    )  # fmt: skip
                elif start < end:
                    uow.publish(book.events[start:end], origin=origin)
                    uow.audit(action, subject, origin=origin, bulk=len(cmds))

        return self._write(
            "ledger.post_bulk",
            f"batch:{_action_of(cmds[0])[1] if cmds else '-'}",
            decide,
            accounts=[
                p.account_id for c in cmds if isinstance(c, PostTransfer) for p in c.postings
            ],
            transfers=[c.hold_id for c in cmds if not isinstance(c, PostTransfer)],
            new_ids=[c.id for c in cmds if isinstance(c, PostTransfer)],
            record=record,
        )

    def expire_holds(self, limit: int = 1000) -> list[Transfer]:
        """Release holds whose timeout has passed; returns the holds it expired."""
        with self._reader() as conn:
            due = LedgerStore(conn).expired_hold_ids(self.clock(), limit)
        if not due:
            return []

        def decide(book: Book) -> list[Transfer]:
            expired = []
            for hold_id in due:
                try:
                    expired.append(book.expire_pending(hold_id))
                except HoldNotPending:
                    continue  # posted or voided since we looked
            return expired

        return self._write("ledger.expire_holds", "holds", decide, transfers=due)

    @_traced
    def _write(
        self,
        action: str,
        subject: str,
        decide: Callable[[Book], T],
        *,
        accounts: Sequence[str] = (),
        transfers: Sequence[str] = (),
        new_ids: Sequence[str] = (),
        with_assets: bool = False,
        details: dict[str, Any] | None = None,
        record: Callable[[LedgerUnitOfWork, Book, T], None] | None = None,
    ) -> T:
        """Run `decide` on a freshly loaded, locked slice; save and commit what it recorded.

        `new_ids` are the idempotency keys of transfers the command creates; they are looked
        up first, because a replay must return the original outcome even where the same command
        would now be rejected (funds spent since). `record` replaces the default publishing and
        auditing (one audit record for the command).
        """
        for attempt in range(MAX_ATTEMPTS):
            uow = self._uow()
            try:
                with uow:
                    state = uow.ledger.load(
                        accounts, transfers, replay_ids=new_ids, with_assets=with_assets
                    )
                    book = Book(state, self.clock())
                    result = decide(book)
                    if record is not None:
                        record(uow, book, result)
                    elif book.events:
                        uow.publish(book.events)
                        uow.audit(action, subject, events=len(book.events), **(details or {}))
                    if book.events:
                        uow.ledger.save(book.state, book.events, book.now)
                    if uow.has_pending_writes():
                        uow.commit()
                    return result
            except LedgerRejection as exc:
                self._audit_rejection(action, subject, exc)
                raise
            except DBAPIError as exc:
                if not is_retryable(exc):
                    raise StoreUnavailable("the ledger database failed", action=action) from exc
                backoff(attempt)
        raise ConcurrentUpdate("gave up after repeated write conflicts", action=action)

    def _audit_rejection(self, action: str, subject: str, exc: LedgerRejection) -> None:
        self._audit_rejections(action, [(subject, exc)])

    def _audit_rejections(
        self, action: str, rejected: Sequence[tuple[str, LedgerRejection]]
    ) -> None:
        with self._uow() as uow:
            for subject, exc in rejected:
                uow.audit(action, subject, outcome="rejected", error=exc.to_dict())
            uow.commit()

    # queries

    def balance(self, account_id: str, as_of: dt.datetime | None = None) -> Balance:
        """The balance now, or posted as of a past moment (entries effective by then)."""
        with self._reader() as conn:
            store = LedgerStore(conn)
            found = store.account(account_id)
            if found is None:
                raise UnknownAccount(f"account {account_id} does not exist", account_id=account_id)
            account, totals = found
            if as_of is not None:
                totals = store.posted_totals_as_of(account_id, as_of)
            return Balance(account.id, account.asset, account.normal_side, totals)

    def statement(
        self,
        account_id: str,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> StatementPage:
        """Posted entries in [start, end) with the running balance after each, a page at a time."""
        with self._reader() as conn:
            return build_statement(conn, account_id, start, end, cursor, limit)

    def transfers_for_account(
        self,
        account_id: str,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> TransferPage:
        """Posted transfers that touched an account in [start, end), a page at a time."""
        with self._reader() as conn:
            return build_transfer_page(conn, account_id, start, end, cursor, limit)

    def transfer(self, transfer_id: str) -> Transfer:
        with self._reader() as conn:
            found = LedgerStore(conn).transfer(transfer_id)
        if found is None:
            raise UnknownTransfer(f"transfer {transfer_id} does not exist", transfer_id=transfer_id)
        return found

    def accounts(self) -> list[tuple[Account, Totals]]:
        with self._reader() as conn:
            return LedgerStore(conn).list_accounts()

    def assets(self) -> list[Asset]:
        with self._reader() as conn:
            return LedgerStore(conn).list_assets()

    def _reader(self) -> Connection:
        return self.engine.connect().execution_options(**READ_ONLY)
