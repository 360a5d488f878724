"""Beneficial owners of a business, each screened: a hit on any owner escalates the business's
decisions (review, or block for a strong hit) and raises a case alert for the business."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.conftest import ManualClock
from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.domain.errors import InvalidBeneficialOwners
from twinrail.compliance.domain.owners import (
    BeneficialOwner,
    business_of_party,
    check_owners_are_valid,
    ownership_bps,
)
from twinrail.compliance.service.cases_service import CaseService
from twinrail.compliance.service.decision_service import DecideMovement, DecisionService
from twinrail.compliance.service.party_screening_service import PartyScreeningService
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.platform.outbox import fetch_unpublished

BOUT = BeneficialOwner("o1", "Viktor Anatolyevich Bout", dt.date(1967, 1, 13), "RU", 2500)
CLEAN = BeneficialOwner("o2", "Maria Clean Sample", dt.date(1980, 5, 5), "DE", 7500)


@pytest.fixture
def parties(engine: Engine, loaded: ScreeningService, clock: ManualClock) -> PartyScreeningService:
    return PartyScreeningService(engine, loaded, clock=clock)


def business() -> str:
    return f"cus_{uuid.uuid4().hex[:12]}"


def decide(engine: Engine, screening: ScreeningService, clock: ManualClock, cus: str) -> Outcome:
    settings = ComplianceSettings()
    prices = FixedPriceTable(settings.prices_eur, settings.asset_decimals)
    service = DecisionService(engine, screening, prices, settings=settings, clock=clock)
    recorded = service.decide(DecideMovement(f"po_{uuid.uuid4().hex}", cus, "bank_payment",
                                             "EUR", 10_00, client_id="cli_A"))  # fmt: skip
    return recorded.decision.outcome


def test_each_owner_is_screened_and_a_listed_owner_is_a_hit_of_the_business(
    parties: PartyScreeningService,
) -> None:
    cus = business()
    result = parties.set_owners(cus, [BOUT, CLEAN], actor="analyst-1")
    assert [o.owner_id for o in result.owners] == ["o1", "o2"]
    assert {h["party_id"] for h in result.hits} == {f"{cus}/owner/o1"}
    assert all(h["owner"] and not h["suppressed"] for h in result.hits)
    assert {h["entity_id"] for h in result.hits} >= {"NK-2fhGSiKu9TS4UvoBmPVCQe"}
    assert business_of_party(f"{cus}/owner/o1") == cus


def test_replacing_the_owners_drops_the_old_owners_hits(parties: PartyScreeningService) -> None:
    cus = business()
    parties.set_owners(cus, [BOUT, CLEAN])
    assert parties.set_owners(cus, [CLEAN]).hits == ()


def test_an_owner_hit_escalates_the_business_decisions(
    engine: Engine, parties: PartyScreeningService, loaded: ScreeningService, clock: ManualClock
) -> None:
    cus, other = business(), business()
    parties.set_owners(cus, [BOUT, CLEAN])
    parties.set_owners(other, [CLEAN])
    assert decide(engine, loaded, clock, cus) in (Outcome.REVIEW, Outcome.BLOCK)
    assert decide(engine, loaded, clock, other) is Outcome.ALLOW


def test_an_owner_hit_raises_a_case_alert_for_the_business(
    engine: Engine, parties: PartyScreeningService, clock: ManualClock
) -> None:
    cus = business()
    parties.set_owners(cus, [BOUT])
    cases = CaseService(engine, clock=clock)
    with engine.connect() as conn:
        messages = fetch_unpublished(conn, 10_000)
    for message in messages:
        cases.handle(message)
    [case] = cases.cases(customer_ids=[cus])
    alerts = cases.case(case.case_id).alerts
    assert alerts and all(a.kind.value == "screening_hit" for a in alerts)
    assert all(a.summary["party_id"] == f"{cus}/owner/o1" for a in alerts)


@pytest.mark.parametrize(
    "owners",
    [
        [BeneficialOwner("o1", " ", None, None, 100)],
        [BeneficialOwner("o1", "A", None, None, 0)],
        [
            BeneficialOwner("o1", "A", None, None, 6000),
            BeneficialOwner("o2", "B", None, None, 5000),
        ],
        [BeneficialOwner("o1", "A", None, None, 100), BeneficialOwner("o1", "B", None, None, 100)],
    ],
)
def test_invalid_owners_are_refused_and_nothing_is_stored(
    parties: PartyScreeningService, owners: list[BeneficialOwner]
) -> None:
    cus = business()
    with pytest.raises(InvalidBeneficialOwners):
        parties.set_owners(cus, owners)
    assert parties.results(cus).owners == ()


@pytest.mark.parametrize(("text", "bps"), [("25", 2500), ("33.33", 3333), ("100", 10000)])
def test_ownership_shares_are_exact_basis_points(text: str, bps: int) -> None:
    assert ownership_bps(text) == bps


@pytest.mark.parametrize("text", ["0", "100.01", "-5", "12.345", "abc"])
def test_ownership_shares_outside_the_range_are_refused(text: str) -> None:
    with pytest.raises(InvalidBeneficialOwners):
        ownership_bps(text)


@given(st.lists(st.integers(min_value=-100, max_value=12_000), min_size=1, max_size=8))
def test_owner_shares_are_accepted_exactly_when_each_is_positive_and_all_fit_in_100(
    shares: list[int],
) -> None:
    owners = [BeneficialOwner(f"o{i}", f"Owner {i}", None, None, s) for i, s in enumerate(shares)]
    valid = all(0 < s <= 10_000 for s in shares) and sum(shares) <= 10_000
    try:
        check_owners_are_valid(owners)
    except InvalidBeneficialOwners:
        assert not valid
    else:
        assert valid
