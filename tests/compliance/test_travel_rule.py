"""Travel rule (IVMS101, EU TFR 2023/1113) for crypto withdrawals: what is required, what is
built, and that missing data holds the withdrawal for review and is stored with the decision."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.conftest import ManualClock
from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.domain.decision import Counterparty, Outcome
from twinrail.compliance.domain.travel_rule import check_travel_rule
from twinrail.compliance.service.decision_service import DecideMovement, DecisionService
from twinrail.compliance.service.kyc_service import KycService, SetKycProfile
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings

WALLET = "0x" + "5a" * 20
USDC = 1_000_000  # one USDC in minor units (EUR 0.92)
COMPLETE: dict[str, Any] = {
    "originator": {
        "first_name": "Anna", "last_name": "Schmidt", "customer_id": "cus_anna",
        "address": {"street": "Hauptstr.", "building_number": "1", "post_code": "10115",
                    "town": "Berlin", "country": "DE"},
    },
    "beneficiary": {"first_name": "Bo", "last_name": "Li"},
    "originator_wallet": "0x" + "11" * 20,
    "originating_vasp": {"name": "Twinrail GmbH", "lei": "529900T8BM49AURSDO55"},
    "beneficiary_vasp": {"name": "Other Exchange SA"},
}  # fmt: skip


def payload(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(COMPLETE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def check(data: dict[str, Any] | None, eur_cents: int | None = 500_00) -> tuple[str, ...]:
    return check_travel_rule(data, beneficiary_wallet=WALLET, eur_cents=eur_cents).problems


def test_a_complete_transfer_between_providers_passes_and_builds_ivms101() -> None:
    result = check_travel_rule(COMPLETE, beneficiary_wallet=WALLET, eur_cents=500_00)
    assert result.complete and result.payload is not None
    message = result.payload.to_json()
    person = message["originator"]["originatorPersons"][0]["naturalPerson"]
    assert person["name"]["nameIdentifier"][0] == {
        "primaryIdentifier": "Schmidt", "secondaryIdentifier": "Anna", "nameIdentifierType": "LEGL"
    }  # fmt: skip
    assert person["geographicAddress"][0]["townName"] == "Berlin"
    assert message["beneficiary"]["accountNumber"] == [WALLET]
    vasp = message["originatingVASP"]["originatingVASP"]["legalPerson"]
    assert vasp["nationalIdentification"]["nationalIdentifierType"] == "LEIX"
    assert "beneficiaryVASP" in message


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"originator": {"first_name": "Anna", "customer_id": "c"}}, "originator.name: missing"),
        ({"originator": None}, "originator: missing"),
        ({"beneficiary": {"first_name": "Bo"}}, "beneficiary.name: missing"),
        ({"originator_wallet": None}, "originator_wallet: missing"),
        ({"originating_vasp": None}, "originating_vasp: missing"),
        ({"beneficiary_vasp": None}, "beneficiary_vasp: missing (or mark the wallet self_hosted)"),
    ],
)
def test_each_missing_required_field_is_named(changes: dict[str, Any], problem: str) -> None:
    assert problem in check(payload(**changes))


def test_the_originator_needs_an_address_an_id_a_customer_number_or_birth_date_and_place() -> None:
    bare = {"first_name": "Anna", "last_name": "Schmidt"}
    assert any("TFR art. 14(1)" in p for p in check(payload(originator=bare)))
    for extra in (
        {"national_id": {"id": "C01X00T47", "type": "CCPT", "country": "DE"}},
        {"date_of_birth": "1980-02-01", "place_of_birth": "Hamburg"},
        {"customer_id": "cus_anna"},
        {"address": {"town": "Berlin", "country": "DE"}},
    ):
        assert check(payload(originator={**bare, **extra})) == ()
    town_only = {**bare, "address": {"town": "Berlin"}}
    assert any("TFR art. 14(1)" in p for p in check(payload(originator=town_only)))


def test_a_legal_person_originator_is_identified_by_its_lei() -> None:
    company = {"kind": "legal", "legal_name": "ACME GmbH", "lei": "529900T8BM49AURSDO55"}
    result = check_travel_rule(payload(originator=company), beneficiary_wallet=WALLET, eur_cents=1)
    assert result.complete and result.payload is not None
    legal = result.payload.to_json()["originator"]["originatorPersons"][0]["legalPerson"]
    assert legal["name"]["nameIdentifier"][0]["legalPersonName"] == "ACME GmbH"


def test_a_self_hosted_wallet_needs_ownership_proof_only_above_eur_1000() -> None:
    self_hosted = payload(beneficiary_vasp=None, self_hosted=True)
    assert check(self_hosted, 1_000_00) == ()
    assert check(self_hosted, 1_000_01) == (
        "ownership_proof: required for a self-hosted wallet above EUR 1000",
    )
    assert any("no EUR value" in p for p in check(self_hosted, None))
    proven = {**self_hosted, "ownership_proof": {"method": "signature", "reference": "sig_1"}}
    assert check(proven, 50_000_00) == ()


def test_malformed_data_is_reported_not_raised() -> None:
    bad = payload(originator={"last_name": 7, "lei": "nope"}, self_hosted="maybe")
    problems = check(bad)
    assert any(p.startswith("originator.last_name") for p in problems)
    assert any(p.startswith("originator.lei") for p in problems)
    assert check(None) == ("travel_rule: no originator/beneficiary data",)
    assert check({"surprise": 1})  # unknown keys are refused


# --- through the decision service -------------------------------------------------------------


@pytest.fixture
def decisions(engine: Engine, service: ScreeningService, clock: ManualClock) -> DecisionService:
    settings = ComplianceSettings()
    prices = FixedPriceTable(settings.prices_eur, settings.asset_decimals)
    return DecisionService(engine, service, prices, clock=clock)


def withdrawal(customer: str, usdc: int, travel_rule: dict[str, Any] | None) -> DecideMovement:
    return DecideMovement(
        order_id=f"po_{uuid.uuid4().hex}", customer_id=customer, order_type="crypto_withdrawal",
        asset="USDC", amount=usdc * USDC, counterparty=Counterparty(wallet=WALLET),
        chain_id=1, travel_rule=travel_rule,
    )  # fmt: skip


def test_a_withdrawal_without_travel_rule_data_is_held_for_review_and_the_record_stored(
    decisions: DecisionService,
) -> None:
    cmd = withdrawal("cus_tr_1", 10, None)
    recorded = decisions.decide(cmd)
    assert recorded.decision.outcome is Outcome.REVIEW
    assert recorded.decision.codes == ("travel_rule.incomplete",)
    [record] = decisions.travel_rule_records(cmd.order_id)
    assert record["status"] == "incomplete" and record["ivms101"] is None
    assert record["decision_id"] == recorded.decision_id


def test_a_withdrawal_with_complete_data_is_allowed_with_its_ivms101_stored(
    decisions: DecisionService,
) -> None:
    cmd = withdrawal("cus_tr_2", 10, COMPLETE)
    recorded = decisions.decide(cmd)
    assert recorded.decision.outcome is Outcome.ALLOW
    [record] = decisions.travel_rule_records(cmd.order_id)
    assert record["status"] == "complete" and record["self_hosted"] is False
    assert record["ivms101"]["beneficiary"]["accountNumber"] == [WALLET]
    stored = decisions.decision(recorded.decision_id)
    assert stored is not None and stored.inputs["travel_rule"]["complete"] is True


def test_a_large_withdrawal_to_an_unproven_self_hosted_wallet_is_held(
    engine: Engine, decisions: DecisionService, clock: ManualClock
) -> None:
    KycService(engine, clock=clock).set_profile(SetKycProfile("cus_tr_3", "verified", 1))
    self_hosted = payload(beneficiary_vasp=None, self_hosted=True)
    small = decisions.decide(withdrawal("cus_tr_3", 1_000, self_hosted))  # EUR 920
    assert small.decision.outcome is Outcome.ALLOW
    large = decisions.decide(withdrawal("cus_tr_3", 1_100, self_hosted))  # EUR 1,012
    assert large.decision.outcome is Outcome.REVIEW
    assert "ownership_proof" in large.decision.reasons[0].detail


def test_bank_payments_need_no_travel_rule_data(decisions: DecisionService) -> None:
    cmd = DecideMovement(f"po_{uuid.uuid4().hex}", "cus_tr_4", "bank_payment", "EUR", 10_00)
    assert decisions.decide(cmd).decision.outcome is Outcome.ALLOW
    assert decisions.travel_rule_records(cmd.order_id) == []
