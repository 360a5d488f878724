"""The shipped rule set through the decision service on a real database: what fires, what is
stored (rule-set version, rule ids, facts, risk score), and the pipeline's counterparty fields."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, select

from tests.conftest import ManualClock
from twinrail.audit.store.tables import audit_entries
from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.adapters.pipeline_port import EngineCompliance
from twinrail.compliance.domain.decision import Counterparty, Outcome
from twinrail.compliance.rules import default_rule_set
from twinrail.compliance.service.decision_service import (
    DecideMovement,
    DecisionService,
    RecordInflow,
)
from twinrail.compliance.service.kyc_service import KycService, SetKycProfile
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.pipeline.domain.compliance import ScreeningRequest, Verdict

RULES = default_rule_set().version
MIXER = "0x910cbd523d972eb0a6f4cae4618ad62622b39dbf"
SANCTIONED_IBAN = "DE89 3704 0044 0532 0130 00"


def prices() -> FixedPriceTable:
    settings = ComplianceSettings()
    return FixedPriceTable(settings.prices_eur, settings.asset_decimals)


@pytest.fixture
def decisions(engine: Engine, service: ScreeningService, clock: ManualClock) -> DecisionService:
    return DecisionService(engine, service, prices(), clock=clock)


@pytest.fixture
def verified(engine: Engine, clock: ManualClock) -> str:
    """A verified tier-1 customer: EUR 10,000 per movement, 15,000 a day, 50,000 in 30 days."""
    customer = f"cus_{uuid.uuid4().hex[:12]}"
    KycService(engine, clock=clock).set_profile(SetKycProfile(customer, "verified", 1))
    return customer


def pay(
    customer: str,
    eur_cents: int,
    order_type: str = "bank_payment",
    asset: str = "EUR",
    **counterparty: str,
) -> DecideMovement:
    return DecideMovement(
        order_id=f"po_{uuid.uuid4().hex}", customer_id=customer, order_type=order_type,
        asset=asset, amount=eur_cents,
        counterparty=Counterparty(**counterparty) if counterparty else None,
    )  # fmt: skip


def test_a_plain_payment_is_allowed_and_stored_with_the_rule_set_version(
    engine: Engine, decisions: DecisionService, verified: str
) -> None:
    recorded = decisions.decide(pay(verified, 100_00))
    assert recorded.decision.outcome is Outcome.ALLOW
    stored = decisions.decision(recorded.decision_id)
    assert stored is not None and stored.inputs["rule_set_version"] == RULES
    assert stored.inputs["rules_fired"] == [] and stored.inputs["risk"]["score"] == 0
    [live] = decisions.evaluations(recorded.decision_id)
    assert (live.mode, live.rule_set_version, live.outcome) == ("live", RULES, "allow")
    score = decisions.risk_score(verified)
    assert score is not None and (score.score, score.decision_id) == (0, recorded.decision_id)
    with engine.connect() as conn:
        audit = conn.execute(
            select(audit_entries.c.details).where(audit_entries.c.action == "compliance.decide")
        ).all()
    details = [row.details for row in audit]
    assert any(d.get("rule_set_version") == RULES for d in details)


def test_a_large_payment_goes_to_review_naming_the_rule_and_its_facts(
    decisions: DecisionService, verified: str
) -> None:
    recorded = decisions.decide(pay(verified, 10_000_00))
    assert recorded.decision.outcome is Outcome.REVIEW
    stored = decisions.decision(recorded.decision_id)
    assert stored is not None and stored.codes == ("rule.amount.large",)
    reason = stored.reasons[0]
    assert reason["rule_id"] == "amount.large"
    assert reason["facts"] == {"eur": "10000.00", "threshold_eur": "10000.00"}
    assert stored.inputs["rules_fired"][0]["rule_id"] == "amount.large"
    assert decisions.evaluations(recorded.decision_id)[0].fired == ("amount.large",)


def test_the_sixth_payment_within_an_hour_is_held_for_velocity(
    decisions: DecisionService, verified: str, clock: ManualClock
) -> None:
    outcomes = []
    for _ in range(6):
        outcomes.append(decisions.decide(pay(verified, 10_00)).decision)
        clock.advance(minutes=5)
    assert [d.outcome for d in outcomes[:5]] == [Outcome.ALLOW] * 5
    assert outcomes[5].codes == ("rule.velocity.count_1h",)
    clock.advance(hours=1)
    assert decisions.decide(pay(verified, 10_00)).decision.outcome is Outcome.ALLOW


def test_structuring_under_10k_across_days_is_held(
    decisions: DecisionService, verified: str, clock: ManualClock
) -> None:
    first = decisions.decide(pay(verified, 9_500_00)).decision
    clock.advance(days=2)
    second = decisions.decide(pay(verified, 9_900_00)).decision
    clock.advance(days=2)
    third = decisions.decide(pay(verified, 9_000_00)).decision
    assert (first.outcome, second.outcome) == (Outcome.ALLOW, Outcome.ALLOW)
    assert third.outcome is Outcome.REVIEW and "rule.structuring.under_10k" in third.codes


def test_money_leaving_right_after_it_came_in_is_held_and_inflows_count_once(
    decisions: DecisionService, verified: str, clock: ManualClock
) -> None:
    deposit = RecordInflow(f"deposit:1:0x{uuid.uuid4().hex}:0", verified, "USDC", 5_000_000_000)
    assert decisions.record_inflow(deposit) is True
    assert decisions.record_inflow(deposit) is False  # the same deposit again
    assert decisions.record_inflow(RecordInflow("x", verified, "XYZ", 1)) is False  # no price
    clock.advance(hours=2)
    held = decisions.decide(pay(verified, 3_700_00)).decision
    assert held.outcome is Outcome.REVIEW and held.codes == ("rule.rapid_in_out.48h",)
    assert decisions.decide(pay(verified, 100_00)).decision.outcome is Outcome.ALLOW


def test_the_first_large_payment_to_a_new_iban_is_held_and_the_next_one_passes(
    decisions: DecisionService, verified: str, clock: ManualClock
) -> None:
    iban = "FR14 2004 1010 0505 0001 3M02 606"
    first = decisions.decide(pay(verified, 6_000_00, iban=iban, name="Jean Dupont")).decision
    assert first.codes == ("rule.beneficiary.first_large",)
    clock.advance(days=1)
    again = decisions.decide(pay(verified, 6_000_00, iban=iban, name="Jean Dupont")).decision
    assert again.outcome is Outcome.ALLOW


def test_a_customer_silent_for_half_a_year_is_held_when_moving_money_again(
    decisions: DecisionService, verified: str, clock: ManualClock
) -> None:
    assert decisions.decide(pay(verified, 50_00)).decision.outcome is Outcome.ALLOW
    clock.advance(days=179)
    assert decisions.decide(pay(verified, 1_000_00)).decision.outcome is Outcome.ALLOW
    clock.advance(days=180)
    woke = decisions.decide(pay(verified, 1_000_00)).decision
    assert woke.codes == ("rule.dormant.reactivated",)


def test_payments_to_a_call_for_action_country_are_blocked(
    decisions: DecisionService, verified: str
) -> None:
    by_iban = decisions.decide(pay(verified, 10_00, iban="IR062960000000100324200001"))
    by_bic = decisions.decide(pay(verified, 10_00, name="A Trader", bic="MELIIRTH"))
    for recorded in (by_iban, by_bic):
        assert recorded.decision.outcome is Outcome.BLOCK
        assert "rule.jurisdiction.call_for_action" in recorded.decision.codes


def test_a_blocked_payment_raises_the_customer_risk_score_for_later_decisions(
    decisions: DecisionService, verified: str
) -> None:
    decisions.decide(pay(verified, 10_00, iban="IR062960000000100324200001"))
    later = decisions.decide(pay(verified, 10_00))
    assert later.ruled is not None
    factors = {f.name: f.points for f in later.ruled.risk.factors}
    assert factors["rule_history"] == 30  # half of the critical hit's 60 points
    score = decisions.risk_score(verified)
    assert score is not None and score.score == 30 and score.band == "low"


def test_the_pipeline_request_carries_the_counterparty_to_screening_and_rules(
    engine: Engine, loaded: ScreeningService, clock: ManualClock, verified: str
) -> None:
    port = EngineCompliance(DecisionService(engine, loaded, prices(), clock=clock))
    base = {"client_id": "cli_1", "customer_id": verified, "asset": "EUR", "amount": 10_00}
    to_mixer = port.decide(ScreeningRequest(
        order_id="po_mixer", order_type="crypto_withdrawal", counterparty_wallet=MIXER,
        chain_id=1, customer_country="DE", **base,  # type: ignore[arg-type]
    ))  # fmt: skip
    assert to_mixer.verdict is Verdict.BLOCK
    assert any(r.startswith("rule.wallet.tagged_risky") for r in to_mixer.reasons)
    sanctioned = port.decide(ScreeningRequest(
        order_id="po_sanctioned", order_type="bank_payment", counterparty_name="Someone",
        counterparty_iban=SANCTIONED_IBAN, **base,  # type: ignore[arg-type]
    ))  # fmt: skip
    assert sanctioned.verdict is Verdict.BLOCK
    assert sanctioned.reasons[0].startswith("sanctions.counterparty_identifier_hit")
    stored = port.decisions.decisions_for_order("po_mixer")[0]
    assert stored.inputs["chain_id"] == 1 and stored.inputs["customer_country"] == "DE"


def test_a_decision_again_on_the_same_order_does_not_count_it_twice(
    decisions: DecisionService, verified: str
) -> None:
    cmd = pay(verified, 10_00)
    for _ in range(7):
        outcome = decisions.decide(cmd).decision.outcome
    assert outcome is Outcome.ALLOW  # one order, seven decisions: no velocity
