"""False-positive marks under four eyes: proposed by one analyst, approved by another; the hit
then stays quiet until the listed entity or the customer's screened data changes."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.conftest import ManualClock
from twinrail.audit.store.tables import audit_entries
from twinrail.compliance.domain.errors import FourEyesViolation, InvalidCaseAction, UnknownCase
from twinrail.compliance.domain.false_positives import MarkStatus
from twinrail.compliance.domain.owners import BeneficialOwner
from twinrail.compliance.service.false_positive_service import FalsePositiveService
from twinrail.compliance.service.party_screening_service import PartyScreeningService
from twinrail.compliance.service.screening_service import ScreeningService

from .conftest import FTM

GREEK_ID = "NK-greek-1"
OWNER = BeneficialOwner("o1", "Georgios Papadopoulos", dt.date(1955, 3, 2), "GR", 5000)


@pytest.fixture
def ftm(service: ScreeningService) -> ScreeningService:
    service.load_list("ftm", FTM)
    return service


@pytest.fixture
def parties(engine: Engine, ftm: ScreeningService, clock: ManualClock) -> PartyScreeningService:
    return PartyScreeningService(engine, ftm, clock=clock)


@pytest.fixture
def marks(engine: Engine, clock: ManualClock) -> FalsePositiveService:
    return FalsePositiveService(engine, clock=clock)


def greek_hit(parties: PartyScreeningService, cus: str) -> dict[str, object]:
    """The latest current hit on the listed Greek namesake."""
    return [h for h in parties.results(cus).hits if h["entity_id"] == GREEK_ID][-1]


def marked_business(parties: PartyScreeningService, marks: FalsePositiveService) -> str:
    cus = f"cus_{uuid.uuid4().hex[:12]}"
    parties.set_owners(cus, [OWNER])
    hit = greek_hit(parties, cus)
    mark = marks.propose(cus, int(str(hit["hit_id"])), "different person: other town", by="ann")
    marks.approve(mark.mark_id, by="ben")
    return cus


def test_the_proposer_cannot_approve_and_a_proposal_alone_suppresses_nothing(
    parties: PartyScreeningService, marks: FalsePositiveService
) -> None:
    cus = f"cus_{uuid.uuid4().hex[:12]}"
    parties.set_owners(cus, [OWNER])
    hit = greek_hit(parties, cus)
    mark = marks.propose(cus, int(str(hit["hit_id"])), "namesake", by="ann")
    assert mark.status is MarkStatus.PROPOSED
    with pytest.raises(FourEyesViolation):
        marks.approve(mark.mark_id, by="ann")
    assert greek_hit(parties, cus)["suppressed"] is False
    approved = marks.approve(mark.mark_id, by="ben")
    assert (approved.status, approved.decided_by) == (MarkStatus.APPROVED, "ben")
    assert greek_hit(parties, cus)["suppressed"] is True
    with pytest.raises(InvalidCaseAction):
        marks.reject(mark.mark_id, by="cat")


def test_a_rejected_mark_leaves_the_hit_firing(
    parties: PartyScreeningService, marks: FalsePositiveService
) -> None:
    cus = f"cus_{uuid.uuid4().hex[:12]}"
    parties.set_owners(cus, [OWNER])
    mark = marks.propose(cus, int(str(greek_hit(parties, cus)["hit_id"])), "namesake", by="ann")
    marks.reject(mark.mark_id, by="ben")
    assert greek_hit(parties, cus)["suppressed"] is False


def test_an_approved_mark_survives_rescreening_and_an_unchanged_list_reload(
    parties: PartyScreeningService, marks: FalsePositiveService, ftm: ScreeningService,
    clock: ManualClock,
) -> None:  # fmt: skip
    cus = marked_business(parties, marks)
    clock.advance(days=1)
    ftm.load_list("ftm", FTM)  # the same content as version 2
    parties.set_owners(cus, [OWNER])  # screened again: a new hit row on version 2
    hit = greek_hit(parties, cus)
    assert hit["list_version"] == 2 and hit["suppressed"] is True


def test_a_list_version_that_changes_the_entity_makes_the_hit_fire_again(
    parties: PartyScreeningService, marks: FalsePositiveService, ftm: ScreeningService,
    tmp_path: Path,
) -> None:  # fmt: skip
    cus = marked_business(parties, marks)
    changed = tmp_path / "ftm.json"
    lines = []
    for line in FTM.read_text().splitlines():
        entity = json.loads(line)
        if entity["id"] == GREEK_ID:
            entity["properties"]["alias"].append("Giorgos Papadopoulos")
        lines.append(json.dumps(entity))
    changed.write_text("\n".join(lines) + "\n")
    ftm.load_list("ftm", changed)  # re-screens known parties against the changed entity
    fresh = [h for h in parties.results(cus).hits if h["entity_id"] == GREEK_ID]
    assert any(h["list_version"] == 2 and not h["suppressed"] for h in fresh)


def test_new_customer_data_makes_the_hit_fire_again(
    parties: PartyScreeningService, marks: FalsePositiveService, clock: ManualClock
) -> None:
    cus = marked_business(parties, marks)
    clock.advance(days=1)
    moved = BeneficialOwner("o1", OWNER.name, OWNER.birth_date, "CY", 5000)
    parties.set_owners(cus, [moved])
    assert greek_hit(parties, cus)["suppressed"] is False


def test_every_step_is_audited_and_unknown_ids_are_refused(
    engine: Engine, parties: PartyScreeningService, marks: FalsePositiveService
) -> None:
    cus = marked_business(parties, marks)
    with engine.connect() as conn:
        actions = conn.execute(
            select(audit_entries.c.action, audit_entries.c.actor)
            .where(audit_entries.c.subject == f"customer:{cus}")
            .order_by(audit_entries.c.id)
        ).all()
    assert [tuple(a) for a in actions][-2:] == [
        ("compliance.false_positive.propose", "ann"),
        ("compliance.false_positive.approve", "ben"),
    ]
    with pytest.raises(UnknownCase):
        marks.approve("fpm_missing", by="ben")
    with pytest.raises(UnknownCase):
        marks.propose(cus, 999_999_999, "nope", by="ann")
    assert [m.status for m in marks.marks(cus)] == [MarkStatus.APPROVED]
