"""The customer's risk score: explained factors, thresholds, and how it joins the decision."""

from __future__ import annotations

from twinrail.compliance.domain.decision import MovementDecision, Outcome, Reason
from twinrail.compliance.domain.kyc import KycProfile, KycStatus, Tier
from twinrail.compliance.domain.risk import RiskModel, rule_points, score_risk
from twinrail.compliance.domain.rules import RuleHit, Severity
from twinrail.compliance.domain.rules_decision import ExplainedReason, combine_decision
from twinrail.compliance.domain.travel_rule import TravelRuleCheck

VERIFIED = KycProfile("cus_1", KycStatus.VERIFIED, Tier.IDENTITY)
UNVERIFIED = KycProfile("cus_1", KycStatus.UNVERIFIED, Tier.BASIC)
MODEL = RiskModel(review_at=60, block_at=90)


def hit(severity: Severity, outcome: Outcome = Outcome.REVIEW, rule_id: str = "r.x") -> RuleHit:
    return RuleHit(rule_id, severity, outcome, "a rule", {"eur": "1.00"})


def allowed() -> MovementDecision:
    reasons = (Reason("limits.within", Outcome.ALLOW, "within"),)
    return MovementDecision(Outcome.ALLOW, reasons, Tier.BASIC, "decision-v1", "limits-v1")


def test_a_verified_customer_without_hits_scores_zero_and_is_allowed() -> None:
    risk = score_risk(MODEL, VERIFIED, [])
    assert (risk.score, risk.outcome, risk.band) == (0, Outcome.ALLOW, "low")


def test_kyc_country_current_hits_and_history_each_add_named_points() -> None:
    risk = score_risk(
        MODEL, UNVERIFIED, [hit(Severity.MEDIUM)], customer_country="ng",
        high_risk_countries=frozenset({"NG"}), past_rule_points=10,
    )  # fmt: skip
    points = {f.name: f.points for f in risk.factors}
    assert points == {"kyc_status": 20, "kyc_tier": 10, "customer_country": 25, "rule:r.x": 15,
                      "rule_history": 5}  # fmt: skip
    assert risk.score == 75 and risk.outcome is Outcome.REVIEW
    assert "customer_country+25" in risk.detail


def test_the_score_is_capped_and_blocks_at_the_block_threshold() -> None:
    risk = score_risk(MODEL, UNVERIFIED, [hit(Severity.CRITICAL)] * 3)
    assert risk.score == 100 and risk.outcome is Outcome.BLOCK and risk.band == "severe"
    assert score_risk(RiskModel(review_at=60), UNVERIFIED, [hit(Severity.CRITICAL)] * 3).outcome \
        is Outcome.REVIEW  # fmt: skip


def test_the_review_threshold_is_inclusive() -> None:
    model = RiskModel(review_at=30)
    assert score_risk(model, UNVERIFIED, []).score == 30
    assert score_risk(model, UNVERIFIED, []).outcome is Outcome.REVIEW
    assert score_risk(RiskModel(review_at=31), UNVERIFIED, []).outcome is Outcome.ALLOW


def test_rule_points_sum_the_severities_of_the_hits() -> None:
    assert rule_points(MODEL, [hit(Severity.LOW), hit(Severity.HIGH)]) == 35


def test_a_rule_hit_turns_an_allowed_decision_into_review_with_its_rule_and_facts() -> None:
    risk = score_risk(MODEL, VERIFIED, [hit(Severity.LOW)])
    ruled = combine_decision(allowed(), "set-1", [hit(Severity.LOW)], risk)
    decision = ruled.decision
    assert decision.outcome is Outcome.REVIEW and ruled.fired == ("r.x",)
    assert decision.codes == ("rule.r.x",)  # limits.within is dropped when not allowed
    reason = decision.reasons[0]
    assert isinstance(reason, ExplainedReason)
    assert reason.to_dict()["rule_id"] == "r.x" and reason.to_dict()["facts"] == {"eur": "1.00"}


def test_an_allowing_rule_keeps_the_decision_allowed_and_keeps_limits_within() -> None:
    risk = score_risk(MODEL, VERIFIED, [])
    ruled = combine_decision(allowed(), "set-1", [hit(Severity.LOW, Outcome.ALLOW)], risk)
    assert ruled.decision.outcome is Outcome.ALLOW
    assert ruled.decision.codes == ("limits.within", "rule.r.x")


def test_a_high_score_alone_sends_to_review_and_names_its_factors() -> None:
    risk = score_risk(RiskModel(review_at=30), UNVERIFIED, [])
    ruled = combine_decision(allowed(), "set-1", [], risk)
    assert ruled.decision.outcome is Outcome.REVIEW
    reason = ruled.decision.reasons[-1].to_dict()
    assert reason["code"] == "risk.score_high"
    assert reason["facts"] == {"kyc_status": 20, "kyc_tier": 10}


def test_the_most_severe_of_block_and_review_wins() -> None:
    hits = [hit(Severity.LOW), hit(Severity.CRITICAL, Outcome.BLOCK, "r.block")]
    ruled = combine_decision(allowed(), "set-1", hits, score_risk(MODEL, VERIFIED, hits))
    assert ruled.decision.outcome is Outcome.BLOCK


def test_an_incomplete_travel_rule_sends_to_review_with_each_problem() -> None:
    check = TravelRuleCheck(None, ("originator.name: missing", "originating_vasp: missing"), False)
    ruled = combine_decision(allowed(), "s", [], score_risk(MODEL, VERIFIED, []), check)
    reason = ruled.decision.reasons[-1].to_dict()
    assert ruled.decision.outcome is Outcome.REVIEW and reason["code"] == "travel_rule.incomplete"
    assert reason["facts"] == {"problem_1": "originator.name: missing",
                               "problem_2": "originating_vasp: missing"}  # fmt: skip
