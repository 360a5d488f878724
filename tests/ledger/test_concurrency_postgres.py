"""Concurrency on PostgreSQL: four processes post many transfers between a few accounts, one of
them a hot account with no overdraft. Afterwards the sums are exact, every accepted operation is
accounted for, racing replays and settlements had exactly one winner, and the hot account never
went below zero in the order its writes committed."""

from __future__ import annotations

import multiprocessing
import queue
import random
import time
import traceback
from collections import Counter, defaultdict
from typing import Any

import pytest

from tests.conftest import _truncate_postgres
from tests.ledger.test_state_machine import check_ledger_invariants
from twinrail.ledger.domain.commands import (
    DefineAsset,
    OpenAccount,
    PostPendingTransfer,
    PostTransfer,
    VoidPendingTransfer,
)
from twinrail.ledger.domain.errors import HoldNotPending, LimitExceeded
from twinrail.ledger.domain.events import event_from_record
from twinrail.ledger.domain.model import Limits, Posting, Side, Totals
from twinrail.ledger.domain.state import LedgerState
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.ledger.store.ledger_store import LedgerStore
from twinrail.platform.db import create_db_engine

pytestmark = pytest.mark.postgres

PROCESSES = 4
OPERATIONS = 200
HOT_FUNDS = 10_000
RACE_HOLD_AMOUNT = 10
RACES = OPERATIONS // 10  # one shared transfer and one contested hold every ten steps
SINKS = ["sink-0", "sink-1", "sink-2"]
DEADLINE = 240  # seconds for all workers together; a deadlock shows up as this timeout


def _transfer(tid: str, debit: str, credit: str, amount: int, **kwargs: Any) -> PostTransfer:
    postings = (
        Posting(debit, Side.DEBIT, amount, "EUR"),
        Posting(credit, Side.CREDIT, amount, "EUR"),
    )
    return PostTransfer(tid, postings, **kwargs)


def _open_books(ledger: LedgerService) -> None:
    ledger.define_asset(DefineAsset("EUR", 2))
    chart = {
        "bank": (Side.DEBIT, Limits()),
        "hot": (Side.CREDIT, Limits(debits_must_not_exceed_credits=True)),
        "merchant": (Side.CREDIT, Limits()),
        "cold-a": (Side.CREDIT, Limits()),
        "cold-b": (Side.CREDIT, Limits()),
        **{sink: (Side.CREDIT, Limits()) for sink in SINKS},
    }
    for account_id, (side, limits) in chart.items():
        ledger.open_account(OpenAccount(account_id, "EUR", account_id, account_id, side, limits))
    ledger.post_transfer(_transfer("opening", "bank", "hot", HOT_FUNDS))
    for k in range(RACES):
        ledger.post_transfer(
            _transfer(f"race-hold-{k}", "hot", "merchant", RACE_HOLD_AMOUNT, pending=True)
        )


def worker(url: str, index: int, barrier: Any, results: Any) -> None:
    """One process: its own engine, a seeded mix of writes, and a log of what was accepted."""
    log: dict[str, Any] = {
        "index": index,
        "effects": [],
        "rejected": Counter(),
        "shared": {},
        "races": {},
    }
    try:
        engine = create_db_engine(url, pool_size=2)
        ledger = LedgerService(engine, actor=f"worker-{index}")
        barrier.wait(timeout=60)
        _work(ledger, random.Random(index), index, log)
        engine.dispose()
    except BaseException:  # reported to the parent, which fails the test
        log["crash"] = traceback.format_exc()
    results.put(log)


def _work(ledger: LedgerService, r: random.Random, index: int, log: dict[str, Any]) -> None:
    effects = log["effects"]
    live_holds: list[tuple[str, int]] = []
    for step in range(OPERATIONS):
        if step % 10 == 0:  # every worker posts the same transfer at about the same time
            tid = f"shared-{step // 10}"
            outcome = ledger.post_transfer(_transfer(tid, "bank", "hot", 5, reference="shared"))
            log["shared"][tid] = outcome.replayed
            if not outcome.replayed:
                effects.append(("posted", "bank", "hot", 5))
            continue
        if step % 10 == 3:  # and contends for the same hold: two post it, two void it
            hold = f"race-hold-{step // 10}"
            try:
                if index % 2 == 0:
                    amount = RACE_HOLD_AMOUNT if index == 0 else RACE_HOLD_AMOUNT - 4
                    ledger.post_pending(PostPendingTransfer(hold, amount))
                    effects.append(("settled", hold, amount))
                else:
                    ledger.void_pending(VoidPendingTransfer(hold))
                    effects.append(("voided", hold))
                log["races"][hold] = True
            except HoldNotPending:
                log["races"][hold] = False
            continue
        tid = f"w{index}-{step}"
        try:
            _random_write(ledger, r, tid, live_holds, effects)
        except (LimitExceeded, HoldNotPending) as exc:
            log["rejected"][exc.code] += 1


def _random_write(ledger, r, tid, live_holds, effects) -> None:
    roll = r.random()
    if roll < 0.40:
        sink, amount = r.choice(SINKS), r.randint(1, 150)
        ledger.post_transfer(_transfer(tid, "hot", sink, amount))
        effects.append(("posted", "hot", sink, amount))
    elif roll < 0.50:
        amount = r.randint(1, 60)
        ledger.post_transfer(_transfer(tid, "bank", "hot", amount))
        effects.append(("posted", "bank", "hot", amount))
    elif roll < 0.65:
        debit, credit = r.sample(["cold-a", "cold-b"], 2)
        amount = r.randint(1, 1_000)
        ledger.post_transfer(_transfer(tid, debit, credit, amount))
        effects.append(("posted", debit, credit, amount))
    elif roll < 0.80 or not live_holds:
        amount = r.randint(1, 200)
        ledger.post_transfer(_transfer(tid, "hot", "merchant", amount, pending=True))
        effects.append(("placed", tid, "hot", "merchant", amount))
        live_holds.append((tid, amount))
    else:
        hold, held = live_holds.pop(r.randrange(len(live_holds)))
        if r.random() < 0.3:
            ledger.void_pending(VoidPendingTransfer(hold))
            effects.append(("voided", hold))
        else:
            amount = r.choice([held, r.randint(1, held)])
            ledger.post_pending(PostPendingTransfer(hold, amount))
            effects.append(("settled", hold, amount))


def _run_workers(url: str) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    processes = [
        ctx.Process(target=worker, args=(url, i, barrier, results)) for i in range(PROCESSES)
    ]
    for p in processes:
        p.start()
    logs: list[dict[str, Any]] = []
    deadline = time.monotonic() + DEADLINE
    try:
        while len(logs) < PROCESSES:
            try:
                logs.append(results.get(timeout=1))
            except queue.Empty:
                silent = [p for p in processes if p.exitcode not in (None, 0)]
                assert not silent, (
                    f"a worker died without reporting (exit code {silent[0].exitcode})"
                )
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"{len(logs)} of {PROCESSES} workers finished in {DEADLINE}s: deadlock?"
                    )
    finally:
        for p in processes:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    crashes = [log["crash"] for log in logs if "crash" in log]
    assert not crashes, crashes[0]
    assert all(p.exitcode == 0 for p in processes)
    return logs


def _expected_totals(logs: list[dict[str, Any]]) -> dict[str, Totals]:
    """Every account's totals, computed from what the workers were told was accepted."""
    t: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    holds: dict[str, tuple[str, str, int]] = {}

    def post(debit: str, credit: str, amount: int, column: int) -> None:
        t[debit][column] += amount
        t[credit][column + 1] += amount

    post("bank", "hot", HOT_FUNDS, 0)
    for k in range(RACES):
        holds[f"race-hold-{k}"] = ("hot", "merchant", RACE_HOLD_AMOUNT)
        post("hot", "merchant", RACE_HOLD_AMOUNT, 2)
    placed = [e for log in logs for e in log["effects"] if e[0] == "placed"]
    for _, hold, debit, credit, amount in placed:
        holds[hold] = (debit, credit, amount)
        post(debit, credit, amount, 2)
    for effect in (e for log in logs for e in log["effects"] if e[0] != "placed"):
        if effect[0] == "posted":
            post(*effect[1:], 0)
            continue
        debit, credit, held = holds[effect[1]]
        post(debit, credit, -held, 2)
        if effect[0] == "settled":
            post(debit, credit, effect[2], 0)
    return {account_id: Totals(*values) for account_id, values in t.items()}


def test_four_processes_keep_sums_exact_and_the_hot_account_never_overdrawn(postgres_database):
    engine = create_db_engine(postgres_database)
    _truncate_postgres(engine)
    ledger = LedgerService(engine, actor="setup")
    _open_books(ledger)

    logs = _run_workers(postgres_database)

    stored = check_ledger_invariants(engine)  # debits = credits, totals = entries = fold of events
    expected = _expected_totals(logs)
    assert {i: t for i, (_, t) in stored.accounts.items() if i in expected} == expected
    assert all(t == Totals() for i, (_, t) in stored.accounts.items() if i not in expected)

    # racing replays: exactly one worker posted each shared transfer, the others got the replay
    for k in range(RACES):
        first_posts = [log["shared"][f"shared-{k}"] is False for log in logs]
        assert first_posts.count(True) == 1, f"shared-{k}"
    # racing settlements: exactly one worker posted or voided each contested hold
    for k in range(RACES):
        assert [log["races"][f"race-hold-{k}"] for log in logs].count(True) == 1, f"race-hold-{k}"
    assert sum(log["rejected"]["ledger.limit_exceeded"] for log in logs) > 0, "no contention"

    _assert_hot_never_overdrawn(engine, ledger)
    engine.dispose()


def _assert_hot_never_overdrawn(engine, ledger: LedgerService) -> None:
    # Writers to "hot" queue on its row lock and append their events and entries while holding
    # it, so event positions and statement order among them are the order they committed.
    state = LedgerState()
    with engine.connect() as conn:
        for _, topic, data in LedgerStore(conn).iter_events():
            state.apply(event_from_record(topic, data))
            if "hot" in state.totals:
                t = state.totals["hot"]
                assert t.debits_posted + t.debits_pending <= t.credits_posted, "hot overdrawn"
    cursor, lowest = None, 0
    while True:
        page = ledger.statement("hot", cursor=cursor, limit=500)
        lowest = min([lowest, *(line.balance_after for line in page.lines)])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert lowest >= 0
    balance = ledger.balance("hot")
    assert balance.available >= 0 and balance.posted >= 0
