"""The whole decision: KYC, limits and screening (`decide_movement`), then the rule set's hits,
the customer's risk score and, for crypto withdrawals, the travel rule.

The outcome is the most severe one any reason asks for. Reasons added here:

- `rule.<rule id>` (the rule's outcome): a rule fired; `facts` say why.
- `risk.score_high` (review, or block at the model's `block_at`): the score reached a threshold.
- `travel_rule.incomplete` (review): IVMS101 data is missing or invalid; `facts` list what.

`limits.within` (allow) stays only when the final outcome is allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from twinrail.compliance.domain.decision import MovementDecision, Outcome, Reason
from twinrail.compliance.domain.kyc import KycProfile
from twinrail.compliance.domain.risk import RiskModel, RiskScore, score_risk
from twinrail.compliance.domain.rules import (
    CustomerHistory,
    MovementFacts,
    RuleHit,
    RuleSet,
)
from twinrail.compliance.domain.rules_evaluation import evaluate_rules
from twinrail.compliance.domain.travel_rule import TravelRuleCheck

__all__ = [
    "ExplainedReason",
    "RuledDecision",
    "combine_decision",
    "decide_with_rules",
    "most_severe",
]

_SEVERITY = {Outcome.ALLOW: 0, Outcome.REVIEW: 1, Outcome.BLOCK: 2}


@dataclass(frozen=True, slots=True)
class ExplainedReason(Reason):
    """A reason that names the rule behind it and the facts it saw."""

    rule_id: str = ""
    facts: Mapping[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, str]:  # JSON values; typed as the base for substitution
        out: dict[str, object] = {
            "code": self.code,
            "outcome": self.outcome.value,
            "detail": self.detail,
            "rule_id": self.rule_id,
            "facts": dict(self.facts),
        }
        return out  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class RuledDecision:
    """The final decision, the rule set it came from, and the parts that explain it."""

    decision: MovementDecision
    rule_set_version: str
    hits: tuple[RuleHit, ...]
    risk: RiskScore
    travel_rule: TravelRuleCheck | None = None

    @property
    def fired(self) -> tuple[str, ...]:
        return tuple(h.rule_id for h in self.hits)


def most_severe(outcomes: Sequence[Outcome]) -> Outcome:
    """Block over review over allow (allow when there is nothing)."""
    return max(outcomes, key=_SEVERITY.__getitem__, default=Outcome.ALLOW)


def _rule_reason(hit: RuleHit) -> ExplainedReason:
    detail = f"{hit.description} ({hit.detail})"
    return ExplainedReason(f"rule.{hit.rule_id}", hit.outcome, detail, hit.rule_id, hit.facts)


def _risk_reason(risk: RiskScore) -> ExplainedReason | None:
    if risk.outcome is Outcome.ALLOW:
        return None
    facts = {f.name: f.points for f in risk.factors if f.points}
    return ExplainedReason("risk.score_high", risk.outcome, risk.detail, "risk.score", facts)


def _travel_reason(check: TravelRuleCheck | None) -> ExplainedReason | None:
    if check is None or check.complete:
        return None
    facts = {f"problem_{i}": p for i, p in enumerate(check.problems, 1)}
    detail = "; ".join(check.problems)
    return ExplainedReason(
        "travel_rule.incomplete", Outcome.REVIEW, detail, "travel_rule.tfr_2023_1113", facts
    )


def combine_decision(
    base: MovementDecision,
    rule_set_version: str,
    hits: Sequence[RuleHit],
    risk: RiskScore,
    travel_rule: TravelRuleCheck | None = None,
) -> RuledDecision:
    """Add the rule, risk and travel-rule reasons to `base` and take the most severe outcome."""
    extra: list[Reason] = [_rule_reason(h) for h in hits]
    extra += [r for r in (_risk_reason(risk), _travel_reason(travel_rule)) if r is not None]
    reasons = [r for r in base.reasons if r.code != "limits.within"] + extra
    outcome = most_severe([r.outcome for r in reasons])
    if outcome is Outcome.ALLOW:
        reasons = list(base.reasons) + extra
    decision = replace(base, outcome=outcome, reasons=tuple(reasons))
    return RuledDecision(decision, rule_set_version, tuple(hits), risk, travel_rule)


def decide_with_rules(
    base: MovementDecision,
    rule_set: RuleSet,
    facts: MovementFacts,
    history: CustomerHistory,
    profile: KycProfile,
    *,
    past_rule_points: int = 0,
    travel_rule: TravelRuleCheck | None = None,
) -> RuledDecision:
    """Evaluate `rule_set` on the movement, score the customer, and combine it all with `base`."""
    hits = evaluate_rules(rule_set, facts, history)
    model = rule_set.risk or RiskModel()
    risky = rule_set.lists.get(model.high_risk_list, frozenset())
    risk = score_risk(
        model, profile, hits, customer_country=facts.customer_country,
        high_risk_countries=risky, past_rule_points=past_rule_points,
    )  # fmt: skip
    return combine_decision(base, rule_set.version, hits, risk, travel_rule)
