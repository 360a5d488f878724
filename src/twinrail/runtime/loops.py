"""A periodic background loop, optionally held to one process at a time by a lease.

Every loop keeps going when a round fails (the database or the bus may be away for a while):
the failure is logged and the next round waits longer, doubling up to a ceiling, so a broken
dependency is not hammered and a recovered one is picked up again without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from twinrail.platform.lease import Lease

__all__ = ["PeriodicLoop"]

log = structlog.get_logger(__name__)

_MAX_BACKOFF = 30.0


@dataclass
class PeriodicLoop:
    """Call `step` every `interval` seconds; with a `lease`, only while this process leads.

    `step` returns how much it did; a busy round (non-zero) is followed at once by another.
    """

    name: str
    step: Callable[[], int]
    interval: float = 1.0
    lease: Lease | None = None
    rounds: int = field(default=0, init=False)
    failures: int = field(default=0, init=False)

    def run_forever(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                stop.wait(self._round())
        finally:
            if self.lease is not None:
                self.lease.release()

    def _round(self) -> float:
        """One round; returns how long to wait before the next."""
        if self.lease is not None and not self.lease.try_acquire():
            return self.interval
        try:
            done = self.step()
        except Exception:  # noqa: BLE001 - a loop must outlive a failing dependency
            self.failures += 1
            log.exception("worker.loop_failed", loop=self.name, failures=self.failures)
            return float(min(self.interval * 2 ** min(self.failures, 8), _MAX_BACKOFF))
        self.rounds += 1
        self.failures = 0
        return 0.0 if done else self.interval
