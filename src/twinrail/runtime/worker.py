"""`twinrail worker`: the background loops of the platform, one thread each.

Loops that must not run twice at once across workers lead under a lease (an advisory lock on
PostgreSQL, a file lock beside SQLite), so any number of workers can run side by side:
- outbox relay: publishes committed events to the bus (its lease lives in OutboxRelay);
- audit sealer: chains committed audit rows (serialised by its own transaction-level lock);
- hold expiry: releases holds past their timeout;
- idempotency purge: forgets API idempotency keys after 24 hours;
- webhook fan-out (a bus subscription) and the webhook sender, which needs no lease: each
  delivery is claimed with a conditional UPDATE, so several senders share the work;
- per configured chain (`TWINRAIL_CRYPTO_CHAINS`): the deposit watcher, the withdrawal
  processor and the sweeper, each under its own lease; charge expiry;
- compliance: the case consumer (alerts into cases), credited and reversed crypto deposits as
  inflows for the rules (a bus subscription) and KYC document expiry;
- payment order follow-ups: asks the rails about orders they still carry and carries on approved
  orders a crash left behind (leased); compliance's review decisions are carried out as they
  arrive on the bus.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from twinrail.api.service.idempotency import IdempotencyService
from twinrail.audit.service.sealing import seal_pending
from twinrail.bootstrap import Platform
from twinrail.compliance.workers import build_compliance_loops
from twinrail.crypto.settings import CryptoSettings
from twinrail.crypto.sweep_workers import build_charge_expiry_loop, build_sweep_loops
from twinrail.crypto.watchers import build_deposit_watchers, watcher_lease_name
from twinrail.crypto.withdrawal_workers import build_withdrawal_loops
from twinrail.deposit_inflows import build_deposit_inflows
from twinrail.notify.service.wiring import build_fanout, build_sender
from twinrail.pipeline.service import review_decisions
from twinrail.platform.bus import Bus
from twinrail.platform.lease import lease_for
from twinrail.platform.relay import OutboxRelay
from twinrail.rails import build_payment_orders
from twinrail.runtime.loops import PeriodicLoop

__all__ = ["Worker", "ThreadLoop", "build_loops"]

log = structlog.get_logger(__name__)

# An approved order untouched this long was left behind by a crash (a live request moves its
# order on within a second); the follow-up loop carries it on.
_RESUME_AFTER = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class ThreadLoop:
    """A loop that brings its own `run_forever(stop)` (and cleans up after itself)."""

    name: str
    target: Callable[[threading.Event], None]

    def run_forever(self, stop: threading.Event) -> None:
        self.target(stop)


Loop = PeriodicLoop | ThreadLoop


def build_loops(platform: Platform, bus: Bus, *, interval: float = 0.5) -> list[Loop]:
    """The standard loops over `platform`'s database, publishing to and consuming from `bus`."""
    engine = platform.engine
    relay = OutboxRelay(engine, bus)
    idempotency = IdempotencyService(engine)
    build_fanout(engine).subscribe(bus)  # before the relay publishes anything
    sender = build_sender(engine, platform.settings.var_dir)
    orders = build_payment_orders(platform)
    review_decisions.subscribe(bus, orders)
    build_deposit_inflows(engine).subscribe(bus)  # crypto deposits as compliance inflows

    def follow_up_orders() -> int:
        return orders.follow_up() + orders.resume(idle_for=_RESUME_AFTER)

    return [
        PeriodicLoop("outbox-relay", relay.relay_once, interval, lease=relay.lease),
        PeriodicLoop("audit-sealer", lambda: seal_pending(engine, 1_000), interval),
        PeriodicLoop(
            "hold-expiry",
            lambda: len(platform.ledger.expire_holds()),
            interval * 2,
            lease=lease_for(engine, "hold-expiry"),
        ),
        PeriodicLoop(
            "idempotency-purge",
            idempotency.purge_expired,
            300.0,
            lease=lease_for(engine, "idempotency-purge"),
        ),
        ThreadLoop("webhook-sender", lambda stop: sender.run_forever(stop, interval)),
        PeriodicLoop(
            "order-follow-up",
            follow_up_orders,
            interval * 2,
            lease=lease_for(engine, "order-follow-up"),
        ),
        *_deposit_watcher_loops(platform),
        *build_withdrawal_loops(engine, platform.ledger, CryptoSettings()),
        *build_sweep_loops(engine, platform.ledger, CryptoSettings()),
        build_charge_expiry_loop(engine, CryptoSettings()),
        *build_compliance_loops(engine, bus),
    ]


def _deposit_watcher_loops(platform: Platform) -> list[Loop]:
    """One chain watcher per configured chain, each leading under its own lease."""
    engine = platform.engine
    return [
        PeriodicLoop(
            f"deposit-watcher-{watcher.chain.chain_id}",
            watcher.run_once,
            1.0,
            lease=lease_for(engine, watcher_lease_name(watcher.chain.chain_id)),
        )
        for watcher in build_deposit_watchers(engine, platform.ledger, CryptoSettings())
    ]


class Worker:
    """Runs `loops` on threads until stopped; `stop()` lets each finish its round."""

    def __init__(self, loops: Sequence[Loop]) -> None:
        self.loops = list(loops)
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for loop in self.loops:
            thread = threading.Thread(
                target=loop.run_forever, args=(self.stopping,), name=f"worker-{loop.name}"
            )
            thread.start()
            self._threads.append(thread)
        log.info("worker.started", loops=[loop.name for loop in self.loops])

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout)
        log.info("worker.stopped")

    def run_until_signalled(self) -> None:
        """Start, then stop cleanly on SIGINT or SIGTERM (main thread only)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        self.start()
        while not self.stopping.wait(1.0):
            pass
        self.stop()
