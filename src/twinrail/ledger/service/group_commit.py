"""Group commit: many concurrent single-command callers share database commits.

A commit costs a WAL flush whether it carries one transfer or a hundred. Callers hand their
transfer to a small pool of committer threads and wait; each committer takes everything queued
(up to `max_batch`) and posts it as one bulk unit of work, where every transfer is decided on its
own, so one rejected transfer never fails its neighbours. A caller returns only after the commit
that holds its transfer, so what it is told is durable.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from opentelemetry import trace
from opentelemetry.trace import SpanContext

from twinrail.ledger.domain.book import Outcome
from twinrail.ledger.domain.commands import PostPendingTransfer, PostTransfer, VoidPendingTransfer
from twinrail.ledger.service.ledger_service import BulkCommand, LedgerService
from twinrail.platform.telemetry import tracer
from twinrail.platform.uow import Origin

__all__ = ["GroupCommitter"]

_tracer = tracer(__name__)

_Item = tuple[BulkCommand, Origin | None, "Future[Outcome]", SpanContext]


class GroupCommitter:
    """Posts transfers submitted from many threads in shared commits."""

    def __init__(self, ledger: LedgerService, *, committers: int = 2, max_batch: int = 256) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._run, name=f"ledger-committer-{i}", daemon=True)
            for i in range(committers)
        ]
        for thread in self._threads:
            thread.start()

    def post_transfer(
        self, cmd: PostTransfer, *, origin: Origin | None = None, timeout: float | None = 30.0
    ) -> Outcome:
        """Post `cmd` (same contract as LedgerService.post_transfer), sharing a commit.

        `origin` is who asked; it is audited with this transfer (default: the service's actor).
        """
        return self._submit(cmd, origin, timeout)

    def post_pending(
        self,
        cmd: PostPendingTransfer,
        *,
        origin: Origin | None = None,
        timeout: float | None = 30.0,
    ) -> Outcome:
        """Post a hold (same contract as LedgerService.post_pending), sharing a commit."""
        return self._submit(cmd, origin, timeout)

    def void_pending(
        self,
        cmd: VoidPendingTransfer,
        *,
        origin: Origin | None = None,
        timeout: float | None = 30.0,
    ) -> Outcome:
        """Void a hold (same contract as LedgerService.void_pending), sharing a commit."""
        return self._submit(cmd, origin, timeout)

    def _submit(self, cmd: BulkCommand, origin: Origin | None, timeout: float | None) -> Outcome:
        future: Future[Outcome] = Future()
        self._queue.put((cmd, origin, future, trace.get_current_span().get_span_context()))
        return future.result(timeout)

    def close(self) -> None:
        """Finish what is queued, then stop the committer threads."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Item]) -> None:
        default = Origin(self.ledger.actor, self.ledger.correlation_id)
        # The batch belongs to every caller's trace at once: it links to each of them.
        links = [trace.Link(context) for *_, context in batch if context.is_valid]
        try:
            with _tracer.start_as_current_span(
                "ledger.group_commit", links=links, attributes={"twinrail.batch": len(batch)}
            ):
                results = self.ledger.post_bulk(
                    [cmd for cmd, *_ in batch], [origin or default for _, origin, *_ in batch]
                )
        except Exception as exc:  # noqa: BLE001 - every waiting caller must hear of it
            for _, _, future, _ in batch:
                future.set_exception(exc)
            return
        for (_, _, future, _), result in zip(batch, results, strict=True):
            if result.error is not None:
                future.set_exception(result.error)
            else:
                assert result.outcome is not None
                future.set_result(result.outcome)
