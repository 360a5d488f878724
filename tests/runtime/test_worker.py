"""The worker's loops run the platform's background work, and a failing round is survived."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from tests.ledger.builders import open_account, transfer
from twinrail.audit.service.verification import verify
from twinrail.bootstrap import Platform
from twinrail.ledger.domain.model import Side, TransferStatus
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.bus import InProcessBus
from twinrail.platform.outbox import OutboxMessage
from twinrail.runtime.loops import PeriodicLoop
from twinrail.runtime.worker import Worker, build_loops
from twinrail.settings import Settings


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.05)


@pytest.fixture
def running(engine: Engine) -> Iterator[tuple[LedgerService, list[OutboxMessage]]]:
    ledger = LedgerService(engine, actor="test")
    bus = InProcessBus()
    seen: list[OutboxMessage] = []
    bus.subscribe("ledger.>", seen.append, consumer="test")
    platform = Platform(Settings(), engine, ledger)
    worker = Worker(build_loops(platform, bus, interval=0.05))
    worker.start()
    yield ledger, seen
    worker.stop()


def test_the_worker_publishes_seals_and_expires(running, engine):
    ledger, seen = running
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger, no_overdraft=True)
    ledger.post_transfer(transfer(cash, customer, 500))
    hold = ledger.post_transfer(
        transfer(customer, cash, 200, pending=True, timeout_seconds=1)
    ).transfer

    eventually(lambda: any(m.topic == "ledger.hold_placed" for m in seen))
    eventually(lambda: ledger.transfer(hold.id).status is TransferStatus.EXPIRED)
    assert ledger.balance(customer).available == 500
    eventually(lambda: any(m.topic == "ledger.hold_expired" for m in seen))
    eventually(lambda: verify(engine).unsealed == 0)
    assert verify(engine).ok


def test_a_failing_round_is_logged_and_retried_not_fatal():
    calls = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("database away")
        return 0

    loop = PeriodicLoop("flaky", flaky, interval=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=loop.run_forever, args=(stop,))
    thread.start()
    eventually(lambda: loop.rounds >= 1)
    stop.set()
    thread.join(5)
    assert len(calls) >= 3 and loop.failures == 0
