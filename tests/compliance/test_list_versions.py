"""Loading is atomic and versioned, and a new version re-screens the parties screened before."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.compliance.conftest import FTM, OFAC
from twinrail.compliance.domain.errors import ListLoadInterrupted, MalformedListFile
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.store import list_store
from twinrail.compliance.store.tables import list_entities
from twinrail.platform.outbox import outbox


def active(service: ScreeningService) -> dict[str, int]:
    return {v.list_name: v.version for v in service.list_status() if v.status == "active"}


def test_a_reload_becomes_the_next_version_and_supersedes_the_last(
    service: ScreeningService,
) -> None:
    first = service.load_list("ofac-sdn", OFAC)
    second = service.load_list("ofac-sdn", OFAC)
    assert (first.version.version, second.version.version) == (1, 2)
    assert second.version.changed_count == 0 and second.version.removed_count == 0
    statuses = [(v.version, v.status) for v in service.list_status()]
    assert statuses == [(1, "superseded"), (2, "active")]
    assert service.screen_party("Dmitry Karpov").hits[0].list_version == 2


def test_a_malformed_file_leaves_the_previous_version_active(
    service: ScreeningService, tmp_path: Path
) -> None:
    service.load_list("ofac-sdn", OFAC)
    broken = tmp_path / "sdn.xml"
    broken.write_text(OFAC.read_text()[:1500])
    with pytest.raises(MalformedListFile):
        service.load_list("ofac-sdn", broken)
    assert active(service) == {"ofac-sdn": 1}
    assert service.screen_party("Dmitry Karpov").matched


def test_a_load_that_fails_half_way_is_rolled_back_entirely(
    service: ScreeningService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.load_list("ftm", FTM)
    bigger = tmp_path / "bigger.ftm.json"
    extra = [
        f'{{"id": "X-{i}", "schema": "Person", "properties": {{"name": ["Person {i}"]}}}}'
        for i in range(10)
    ]
    bigger.write_text(FTM.read_text() + "\n".join(extra) + "\n")
    monkeypatch.setattr(list_store, "BATCH_SIZE", 4)

    def crash_after_first_batch(rows: int) -> None:
        raise ConnectionError(f"connection lost after {rows} rows")

    with pytest.raises(ConnectionError):
        service.load_list("ftm", bigger, on_batch=crash_after_first_batch)
    assert active(service) == {"ftm": 1}
    with service.engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(list_entities))
    assert count == 5  # version 1 only; nothing of the failed version 2 is left
    assert not service.screen_party("Person 7").matched


def test_a_database_failure_during_a_load_is_reported_as_interrupted(
    service: ScreeningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.load_list("ofac-sdn", OFAC)

    def duplicate_insert(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        original(self, *args, **kwargs)  # the same rows twice: a primary-key violation

    original = list_store.ListStore.insert_entities
    monkeypatch.setattr(list_store.ListStore, "insert_entities", duplicate_insert)
    with pytest.raises(ListLoadInterrupted) as error:
        service.load_list("ofac-sdn", OFAC)
    assert error.value.retryable
    assert active(service) == {"ofac-sdn": 1}


def test_a_new_version_rescreens_parties_screened_before(
    service: ScreeningService, tmp_path: Path
) -> None:
    service.load_list("ftm", FTM)
    assert not service.screen_party("Ivan Drago", "1961-05-04", "RU", party_id="cust-1").matched
    service.screen_party("Viktor Bout", party_id="cust-2")
    newer = tmp_path / "newer.ftm.json"
    drago = (
        '{"id": "NK-drago", "schema": "Person", "properties": {"name": ["Ivan Drago"], '
        '"alias": ["Иван Драго"], "birthDate": ["1961-05-04"], "nationality": ["ru"]}}'
    )
    newer.write_text(FTM.read_text() + drago + "\n")

    report = service.load_list("ftm", newer)

    assert report.version.changed_count == 1  # only the new entity was screened against
    assert [(party, hit.entity_id) for party, hit in report.new_hits] == [("cust-1", "NK-drago")]
    recorded = service.hits_for("cust-1")
    assert [(h["origin"], h["entity_id"]) for h in recorded] == [("rescreen", "NK-drago")]
    assert [h["origin"] for h in service.hits_for("cust-2")] == ["screening"]  # not re-hit


def test_loads_and_flags_are_published_through_the_outbox(service: ScreeningService) -> None:
    service.load_list("ftm", FTM)
    service.screen_party("Viktor Bout", party_id="cust-9")
    with service.engine.connect() as conn:
        topics = conn.scalars(select(outbox.c.topic).order_by(outbox.c.id)).all()
    assert topics == ["compliance.list_version_activated", "compliance.party_flagged"]
