"""Sealers and writers at the same time, on PostgreSQL (SQLite admits one writer anyway)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, text

from tests.audit.trail import all_entries, append_entries, entry_at
from twinrail.audit.domain.record import AuditRecord
from twinrail.audit.service.recording import append_records
from twinrail.audit.service.sealing import seal_on, seal_pending
from twinrail.audit.service.verification import verify
from twinrail.platform.clock import utc_now
from twinrail.platform.db import create_db_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(postgres_database: str) -> Iterator[Engine]:
    """This session's PostgreSQL database with an empty audit trail."""
    engine = create_db_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_entries RESTART IDENTITY"))
    yield engine
    engine.dispose()


def test_two_sealers_beside_busy_writers_build_one_chain_sealing_each_entry_once(
    pg_engine: Engine,
):
    writers_done = threading.Event()
    writes_per_writer, writers = 40, 4

    def write() -> None:
        append_entries(pg_engine, writes_per_writer)

    def seal() -> int:
        sealed = 0
        while True:
            finishing = writers_done.is_set()  # read before sealing: nothing written after it
            sealed += seal_pending(pg_engine, limit=7)
            if finishing:
                return sealed + seal_pending(pg_engine, limit=10_000)

    with ThreadPoolExecutor(max_workers=writers + 2) as pool:
        sealers = [pool.submit(seal) for _ in range(2)]
        for writer in [pool.submit(write) for _ in range(writers)]:
            writer.result()
        writers_done.set()
        sealed_by = [s.result() for s in sealers]

    total = writers * writes_per_writer
    assert sum(sealed_by) == total
    report = verify(pg_engine)
    assert report.ok
    assert (report.sealed, report.unsealed, report.tail_seal_seq) == (total, 0, total)
    assert sorted(e.seal_seq for e in all_entries(pg_engine)) == list(range(1, total + 1))


def test_a_writer_commits_while_a_sealer_holds_its_lock_mid_transaction(pg_engine: Engine):
    append_entries(pg_engine, 3)
    with pg_engine.connect() as sealer:
        sealer.begin()
        assert seal_on(sealer) == 3  # rows updated and the sealer lock held, not committed
        writer = threading.Thread(target=append_entries, args=(pg_engine, 2))
        writer.start()
        writer.join(timeout=10)
        assert not writer.is_alive(), "the writer waited for the sealer"
        sealer.commit()
    report = verify(pg_engine)
    assert report.ok and (report.sealed, report.unsealed) == (3, 2)


def test_a_second_sealer_waits_and_continues_the_chain_the_first_committed(pg_engine: Engine):
    append_entries(pg_engine, 3)
    with pg_engine.connect() as first:
        first.begin()
        seal_on(first)
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(seal_pending, pg_engine)
            append_entries(pg_engine, 2)
            assert not second.done()  # waiting for the sealer lock
            first.commit()
            assert second.result(timeout=10) == 2
    assert verify(pg_engine).ok
    assert entry_at(pg_engine, 5).prev_hash == entry_at(pg_engine, 4).entry_hash


def test_an_entry_committed_after_a_later_one_is_sealed_after_it(pg_engine: Engine):
    with pg_engine.connect() as slow:
        slow.begin()
        append_records(slow, [AuditRecord("test.slow", "thing:slow", "slow", utc_now())])
        append_entries(pg_engine, 1, actor="fast")  # a higher id, committed first
        assert seal_pending(pg_engine) == 1
        slow.commit()
    report = verify(pg_engine)
    assert report.ok and (report.sealed, report.unsealed) == (1, 1)
    assert seal_pending(pg_engine) == 1
    first, second = entry_at(pg_engine, 1), entry_at(pg_engine, 2)
    assert (first.actor, second.actor) == ("fast", "slow")
    assert second.id < first.id
    assert verify(pg_engine).ok
