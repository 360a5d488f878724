"""Tampering with sealed rows directly in the database: verify fails at exactly that position."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import Engine, text

from tests.audit.trail import (
    append_entries,
    entry_at,
    shift_positions,
    tamper_delete,
    tamper_insert,
    tamper_update,
)
from twinrail.audit.domain.chain import AuditEntry, entry_hash
from twinrail.audit.service.sealing import seal_pending
from twinrail.audit.service.verification import VerificationReport, verify

BATCH = 2  # small pages, so that breaks are found across page boundaries too


@pytest.fixture
def sealed_trail(engine: Engine) -> Engine:
    """Five sealed entries (positions 1..5) that verify."""
    append_entries(engine, 5)
    seal_pending(engine)
    assert verify(engine).ok
    return engine


def broken_at(report: VerificationReport) -> tuple[int | None, int | None, str | None]:
    assert not report.ok
    return report.first_broken_seal_seq, report.first_broken_entry_id, report.break_kind


def test_updating_a_detail_of_a_sealed_entry_breaks_the_chain_there(sealed_trail: Engine):
    victim = entry_at(sealed_trail, 3)
    tamper_update(sealed_trail, 3, details={**victim.details, "index": 99})
    report = verify(sealed_trail, batch_size=BATCH)
    assert broken_at(report) == (3, victim.id, "altered")
    assert report.checked == 2
    assert "changed or forged" in (report.reason or "")
    assert report.tail_seal_seq is None and report.tail_hash is None


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_entries SET actor = 'mallory' WHERE seal_seq = 4",
        "UPDATE audit_entries SET outcome = 'rejected' WHERE seal_seq = 4",
        "UPDATE audit_entries SET correlation_id = NULL WHERE seal_seq = 4",
        "UPDATE audit_entries SET subject = 'transfer:other' WHERE seal_seq = 4",
        "UPDATE audit_entries SET id = id + 1000 WHERE seal_seq = 4",
    ],
    ids=["actor", "outcome", "correlation_id", "subject", "id"],
)
def test_changing_any_column_of_a_sealed_entry_breaks_the_chain_there(
    sealed_trail: Engine, sql: str
):
    with sealed_trail.begin() as conn:
        conn.execute(text(sql))
    assert broken_at(verify(sealed_trail, batch_size=BATCH))[::2] == (4, "altered")


def test_moving_a_sealed_entry_in_time_breaks_the_chain_there(sealed_trail: Engine):
    victim = entry_at(sealed_trail, 2)
    tamper_update(sealed_trail, 2, occurred_at=victim.occurred_at - dt.timedelta(days=1))
    assert broken_at(verify(sealed_trail)) == (2, victim.id, "altered")


def test_changing_an_entry_and_recomputing_its_hash_breaks_the_link_after_it(
    sealed_trail: Engine,
):
    victim = dataclasses.replace(entry_at(sealed_trail, 3), actor="mallory")
    assert victim.prev_hash is not None
    forged_hash = entry_hash(victim, 3, victim.prev_hash)
    tamper_update(sealed_trail, 3, actor="mallory", entry_hash=forged_hash)
    next_id = entry_at(sealed_trail, 4).id
    assert broken_at(verify(sealed_trail, batch_size=BATCH)) == (4, next_id, "unlinked")


def test_deleting_a_sealed_entry_breaks_the_chain_at_its_position(sealed_trail: Engine):
    after = entry_at(sealed_trail, 4)
    tamper_delete(sealed_trail, 3)
    report = verify(sealed_trail, batch_size=BATCH)
    assert broken_at(report) == (3, after.id, "missing")
    assert "position 3 is missing" in (report.reason or "")
    assert report.sealed == 4


def test_deleting_the_first_sealed_entry_breaks_the_chain_at_position_one(sealed_trail: Engine):
    after = entry_at(sealed_trail, 2)
    tamper_delete(sealed_trail, 1)
    assert broken_at(verify(sealed_trail)) == (1, after.id, "missing")


def test_deleting_an_entry_and_closing_the_gap_breaks_the_chain_at_its_position(
    sealed_trail: Engine,
):
    after = entry_at(sealed_trail, 4)
    tamper_delete(sealed_trail, 3)
    shift_positions(sealed_trail, 4, by=-1)
    assert broken_at(verify(sealed_trail, batch_size=BATCH)) == (3, after.id, "unlinked")


def test_a_forged_entry_inserted_after_the_tail_breaks_the_chain_there(sealed_trail: Engine):
    tail = entry_at(sealed_trail, 5)
    tamper_insert(sealed_trail, id=1000, seal_seq=6, prev_hash=tail.entry_hash, entry_hash="f" * 64)
    report = verify(sealed_trail, batch_size=BATCH)
    assert broken_at(report) == (6, 1000, "altered")
    assert report.checked == 5


def test_a_forged_entry_slipped_into_the_middle_breaks_the_chain_there(sealed_trail: Engine):
    before = entry_at(sealed_trail, 2)
    shift_positions(sealed_trail, 3, by=1)
    tamper_insert(
        sealed_trail, id=1000, seal_seq=3, prev_hash=before.entry_hash, entry_hash="f" * 64
    )
    assert broken_at(verify(sealed_trail, batch_size=BATCH)) == (3, 1000, "altered")


def test_a_forged_entry_with_a_correct_hash_still_breaks_the_link_after_it(sealed_trail: Engine):
    before = entry_at(sealed_trail, 2)
    displaced = entry_at(sealed_trail, 3)
    assert before.entry_hash is not None
    shift_positions(sealed_trail, 3, by=1)
    forged = AuditEntry(
        id=1000,
        occurred_at=before.occurred_at,
        actor="mallory",
        action="ledger.post_transfer",
        subject="transfer:forged",
        outcome="ok",
        correlation_id=None,
        details={"events": 1},
    )
    tamper_insert(
        sealed_trail,
        **{k: v for k, v in dataclasses.asdict(forged).items() if v is not None},
        seal_seq=3,
        prev_hash=before.entry_hash,
        entry_hash=entry_hash(forged, 3, before.entry_hash),
    )
    assert broken_at(verify(sealed_trail, batch_size=BATCH)) == (4, displaced.id, "unlinked")


def test_a_forged_entry_before_the_first_position_is_reported_as_inserted(sealed_trail: Engine):
    tamper_insert(sealed_trail, id=1000, seal_seq=0, prev_hash="0" * 64, entry_hash="f" * 64)
    assert broken_at(verify(sealed_trail)) == (0, 1000, "misplaced")


def test_entries_sealed_after_a_break_do_not_hide_it(sealed_trail: Engine):
    tamper_delete(sealed_trail, 2)
    append_entries(sealed_trail, 3)
    assert seal_pending(sealed_trail) == 3
    report = verify(sealed_trail, batch_size=BATCH)
    assert broken_at(report)[::2] == (2, "missing")
    assert (report.sealed, report.unsealed) == (7, 0)
