"""The pure hash chain: canonical form, hashes, sealing and where verification finds a break."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinrail.audit.domain.chain import (
    GENESIS_HASH,
    AuditEntry,
    BreakKind,
    canonical_form,
    entry_hash,
    seal_entries,
    verify_chain,
)

WHEN = dt.datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)


def make_entry(entry_id: int, **changes: object) -> AuditEntry:
    entry = AuditEntry(
        id=entry_id,
        occurred_at=WHEN,
        actor="alice",
        action="ledger.post_transfer",
        subject=f"transfer:{entry_id}",
        outcome="ok",
        correlation_id=f"req-{entry_id}",
        details={"events": 1, "postings": [{"side": "debit"}]},
    )
    return dataclasses.replace(entry, **changes)


def sealed_chain(count: int) -> list[AuditEntry]:
    entries = [make_entry(i + 1) for i in range(count)]
    seals = seal_entries(None, entries)
    return [
        dataclasses.replace(e, seal_seq=s.seal_seq, prev_hash=s.prev_hash, entry_hash=s.entry_hash)
        for e, s in zip(entries, seals, strict=True)
    ]


def test_the_canonical_form_is_compact_json_with_sorted_keys_at_every_depth():
    form = canonical_form(make_entry(1, details={"b": {"y": 1, "x": 2}, "a": 0}), 1, GENESIS_HASH)
    document = json.loads(form)
    assert form == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert list(document) == sorted(document)
    assert b'"details":{"a":0,"b":{"x":2,"y":1}}' in form


def test_the_canonical_form_names_every_field_and_the_time_in_utc():
    document = json.loads(canonical_form(make_entry(7), 3, "ab" * 32))
    assert document == {
        "v": 1,
        "id": 7,
        "seal_seq": 3,
        "occurred_at": "2026-01-01T12:00:00.123456+00:00",
        "actor": "alice",
        "action": "ledger.post_transfer",
        "subject": "transfer:7",
        "outcome": "ok",
        "correlation_id": "req-7",
        "details": {"events": 1, "postings": [{"side": "debit"}]},
        "prev_hash": "ab" * 32,
    }


def test_the_same_instant_in_another_zone_hashes_the_same():
    paris = WHEN.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert entry_hash(make_entry(1, occurred_at=paris), 1, GENESIS_HASH) == entry_hash(
        make_entry(1), 1, GENESIS_HASH
    )


def test_a_naive_time_cannot_be_hashed():
    with pytest.raises(ValueError, match="naive"):
        entry_hash(make_entry(1, occurred_at=WHEN.replace(tzinfo=None)), 1, GENESIS_HASH)


@pytest.mark.parametrize(
    "change",
    [
        {"id": 2},
        {"occurred_at": WHEN + dt.timedelta(microseconds=1)},
        {"actor": "mallory"},
        {"action": "ledger.reverse_transfer"},
        {"subject": "transfer:other"},
        {"outcome": "rejected"},
        {"correlation_id": None},
        {"details": {"events": 2, "postings": [{"side": "debit"}]}},
    ],
    ids=lambda change: next(iter(change)),
)
def test_every_content_field_is_covered_by_the_hash(change: dict[str, object]):
    original = entry_hash(make_entry(1), 1, GENESIS_HASH)
    assert entry_hash(make_entry(1, **change), 1, GENESIS_HASH) != original


def test_the_position_and_the_previous_hash_are_covered_by_the_hash():
    original = entry_hash(make_entry(1), 1, GENESIS_HASH)
    assert entry_hash(make_entry(1), 2, GENESIS_HASH) != original
    assert entry_hash(make_entry(1), 1, "1" * 64) != original


def test_sealing_starts_at_genesis_and_links_each_entry_to_the_one_before():
    seals = seal_entries(None, [make_entry(5), make_entry(3)])
    assert [s.entry_id for s in seals] == [5, 3]
    assert [s.seal_seq for s in seals] == [1, 2]
    assert seals[0].prev_hash == GENESIS_HASH
    assert seals[1].prev_hash == seals[0].entry_hash


def test_an_entry_cannot_be_sealed_twice():
    with pytest.raises(ValueError, match="already sealed"):
        seal_entries(None, sealed_chain(1))


def test_an_empty_chain_holds():
    verdict = verify_chain([])
    assert verdict.ok and verdict.checked == 0 and verdict.tail is None


def test_an_untouched_chain_holds_and_reports_its_tail():
    chain = sealed_chain(4)
    verdict = verify_chain(chain)
    assert verdict.ok and verdict.checked == 4
    assert verdict.tail is not None
    assert (verdict.tail.seal_seq, verdict.tail.entry_hash) == (4, chain[-1].entry_hash)


def test_a_changed_entry_is_the_first_break():
    chain = sealed_chain(4)
    chain[2] = dataclasses.replace(chain[2], actor="mallory")
    verdict = verify_chain(chain)
    assert verdict.first_break is not None
    assert (verdict.first_break.seal_seq, verdict.first_break.entry_id) == (3, 3)
    assert verdict.first_break.kind is BreakKind.ALTERED
    assert verdict.checked == 2


def test_a_deleted_entry_leaves_a_missing_position():
    chain = sealed_chain(4)
    del chain[1]
    verdict = verify_chain(chain)
    assert verdict.first_break is not None
    assert verdict.first_break.seal_seq == 2
    assert verdict.first_break.entry_id == 3  # found in its place
    assert verdict.first_break.kind is BreakKind.MISSING
    assert "position 2 is missing" in verdict.first_break.reason


def test_a_deleted_entry_whose_gap_was_closed_breaks_the_link():
    chain = sealed_chain(4)
    del chain[1]
    chain[1:] = [dataclasses.replace(e, seal_seq=e.seal_seq - 1) for e in chain[1:]]
    verdict = verify_chain(chain)
    assert verdict.first_break is not None
    assert (verdict.first_break.seal_seq, verdict.first_break.kind) == (2, BreakKind.UNLINKED)


def test_an_entry_before_the_start_of_the_chain_is_misplaced():
    chain = [dataclasses.replace(make_entry(99), seal_seq=0, prev_hash="", entry_hash="")]
    verdict = verify_chain(chain + sealed_chain(2))
    assert verdict.first_break is not None
    assert (verdict.first_break.seal_seq, verdict.first_break.kind) == (0, BreakKind.MISPLACED)


def test_an_entry_sealed_without_a_hash_is_altered():
    chain = sealed_chain(2)
    chain[1] = dataclasses.replace(chain[1], entry_hash=None)
    verdict = verify_chain(chain)
    assert verdict.first_break is not None
    assert (verdict.first_break.seal_seq, verdict.first_break.kind) == (2, BreakKind.ALTERED)


def test_verification_reads_entries_lazily_and_stops_at_the_first_break():
    chain = sealed_chain(3)
    chain[0] = dataclasses.replace(chain[0], subject="transfer:other")
    consumed = []

    def entries():
        for entry in chain:
            consumed.append(entry.seal_seq)
            yield entry

    assert not verify_chain(entries()).ok
    assert consumed == [1]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    details=st.lists(st.dictionaries(st.text(), _json, max_size=4), min_size=1, max_size=6),
    data=st.data(),
)
def test_tampering_with_any_one_entry_is_found_at_exactly_its_position(details, data):
    entries = [make_entry(i + 1, details=d) for i, d in enumerate(details)]
    seals = seal_entries(None, entries)
    chain = [
        dataclasses.replace(e, seal_seq=s.seal_seq, prev_hash=s.prev_hash, entry_hash=s.entry_hash)
        for e, s in zip(entries, seals, strict=True)
    ]
    assert verify_chain(chain).ok
    victim = data.draw(st.integers(0, len(chain) - 1))
    chain[victim] = dataclasses.replace(chain[victim], details={"forged": details[victim]})
    verdict = verify_chain(chain)
    assert verdict.first_break is not None
    assert verdict.first_break.seal_seq == victim + 1
