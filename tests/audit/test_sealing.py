"""Sealing committed entries into the chain, and verifying it, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, func, insert, select

from tests.audit.trail import all_entries, append_entries, entry_at
from tests.ledger.builders import open_account, transfer
from twinrail.audit.domain.chain import GENESIS_HASH, Seal, entry_hash
from twinrail.audit.service import sealing
from twinrail.audit.service.sealing import Sealer, seal_all, seal_pending
from twinrail.audit.service.verification import verify
from twinrail.audit.store.audit_store import AuditStore, SealConflict
from twinrail.audit.store.tables import audit_entries
from twinrail.ledger.domain.errors import LimitExceeded
from twinrail.ledger.domain.model import Side
from twinrail.ledger.service.ledger_service import LedgerService


def test_an_untouched_sealed_trail_verifies(engine: Engine):
    append_entries(engine, 5)
    assert seal_pending(engine) == 5
    report = verify(engine)
    assert report.ok
    assert (report.sealed, report.unsealed, report.checked) == (5, 0, 5)
    assert report.tail_seal_seq == 5
    assert report.tail_hash == entry_at(engine, 5).entry_hash
    assert report.first_broken_seal_seq is None and report.reason is None


def test_an_empty_trail_verifies(engine: Engine):
    assert seal_pending(engine) == 0
    report = verify(engine)
    assert report.ok and (report.sealed, report.unsealed, report.tail_seal_seq) == (0, 0, None)


def test_sealing_chains_entries_from_genesis_in_id_order(engine: Engine):
    append_entries(engine, 3)
    seal_pending(engine)
    entries = all_entries(engine)
    assert [e.seal_seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == before.entry_hash
    for entry in entries:
        assert entry.seal_seq is not None and entry.prev_hash is not None
        assert entry.entry_hash == entry_hash(entry, entry.seal_seq, entry.prev_hash)


def test_unsealed_entries_are_reported_and_sealed_by_the_next_seal(engine: Engine):
    append_entries(engine, 3)
    seal_pending(engine)
    append_entries(engine, 2)
    report = verify(engine)
    assert report.ok
    assert (report.sealed, report.unsealed) == (3, 2)
    assert report.oldest_unsealed_at == all_entries(engine)[3].occurred_at
    assert seal_pending(engine) == 2
    report = verify(engine)
    assert report.ok and (report.sealed, report.unsealed, report.tail_seal_seq) == (5, 0, 5)
    assert report.oldest_unsealed_at is None


def test_a_seal_takes_at_most_its_limit_and_the_next_continues_the_chain(engine: Engine):
    append_entries(engine, 5)
    assert seal_pending(engine, limit=2) == 2
    assert verify(engine).unsealed == 3
    assert seal_pending(engine, limit=2) == 2
    assert seal_pending(engine, limit=2) == 1
    assert seal_pending(engine, limit=2) == 0
    report = verify(engine)
    assert report.ok and report.sealed == 5


def test_seal_all_works_through_a_backlog_in_batches(engine: Engine):
    append_entries(engine, 7)
    assert seal_all(engine, batch_size=3) == 7
    assert seal_all(engine, batch_size=3) == 0
    assert verify(engine).sealed == 7


def test_an_unsealed_entry_between_sealed_ones_does_not_break_the_chain(engine: Engine):
    append_entries(engine, 4)
    late = all_entries(engine)[1]
    with engine.begin() as conn:  # take entry 2 out, as if its transaction had not committed yet
        conn.execute(audit_entries.delete().where(audit_entries.c.id == late.id))
    seal_pending(engine)
    with engine.begin() as conn:  # ... and now it commits, after entries with higher ids
        conn.execute(
            insert(audit_entries).values(
                id=late.id,
                occurred_at=late.occurred_at,
                actor=late.actor,
                action=late.action,
                subject=late.subject,
                outcome=late.outcome,
                correlation_id=late.correlation_id,
                details=late.details,
            )
        )
    report = verify(engine)
    assert report.ok and (report.sealed, report.unsealed) == (3, 1)
    seal_pending(engine)
    assert entry_at(engine, 4).id == late.id  # sealed in the order it was found, not by id
    assert verify(engine).ok


def test_ledger_changes_and_rejected_attempts_are_sealed_into_one_chain(
    ledger: LedgerService, engine: Engine
):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger, no_overdraft=True)
    ledger.post_transfer(transfer(cash, customer, 500))
    with pytest.raises(LimitExceeded):
        ledger.post_transfer(transfer(customer, cash, 10_000))
    sealed = seal_pending(engine)
    entries = all_entries(engine)
    assert sealed == len(entries) >= 4
    assert {"ok", "rejected"} == {e.outcome for e in entries}
    assert {e.actor for e in entries} == {"test"}
    report = verify(engine)
    assert report.ok and report.sealed == len(entries)


def test_an_entry_sealed_meanwhile_is_not_sealed_again(engine: Engine):
    append_entries(engine, 1)
    seal_pending(engine)
    entry = all_entries(engine)[0]
    with engine.begin() as conn, pytest.raises(SealConflict):
        AuditStore(conn).apply_seals([Seal(entry.id, 2, "0" * 64, "1" * 64)])
    assert verify(engine).ok


def test_verification_streams_in_batches_and_reports_progress(engine: Engine):
    append_entries(engine, 5)
    seal_pending(engine)
    calls: list[tuple[int, int]] = []
    report = verify(engine, batch_size=2, on_progress=lambda *call: calls.append(call))
    assert report.ok and report.checked == 5
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_the_sealer_loop_keeps_sealing_until_stopped(engine: Engine):
    stop = threading.Event()
    worker = threading.Thread(target=Sealer(engine).run_forever, args=(stop, 0.01))
    worker.start()
    try:
        append_entries(engine, 3)
        deadline = time.monotonic() + 10
        while verify(engine).sealed < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    report = verify(engine)
    assert report.ok and (report.sealed, report.unsealed) == (3, 0)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(audit_entries)) == 3


def test_a_failed_sealing_round_is_retried_instead_of_ending_the_loop(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    real_seal_all = sealing.seal_all
    rounds: list[str] = []

    def flaky_seal_all(*args: object) -> int:
        if not rounds:
            rounds.append("failed")
            raise ConnectionError("database restarting")
        rounds.append("sealed")
        return real_seal_all(*args)

    monkeypatch.setattr(sealing, "seal_all", flaky_seal_all)
    append_entries(engine, 2)
    stop = threading.Event()
    worker = threading.Thread(target=Sealer(engine).run_forever, args=(stop, 0.01))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while verify(engine).sealed < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert rounds[:2] == ["failed", "sealed"]
    assert verify(engine).sealed == 2
