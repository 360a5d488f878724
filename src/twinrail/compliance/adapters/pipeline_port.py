"""The compliance engine behind the pipeline's `CompliancePort`: one synchronous call per order.

The pipeline's `ScreeningRequest` carries ids, asset and amount, and optionally the counterparty
(`counterparty_name`, `counterparty_iban`, `counterparty_bic`, `counterparty_wallet`,
`counterparty_country`), `chain_id`, `customer_country` and, for crypto withdrawals, the
`travel_rule` payload (see `twinrail.compliance.domain.travel_rule.TravelRuleInput`). The
counterparty is read through `counterparty_of` (default: those attributes), so a caller can
supply it another way.

Reasons go back as `"<code>: <detail>"`, code first, so the order's reason stays parseable. If the
engine cannot decide (database down), the order goes to review — never through.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.domain.decision import Counterparty, Outcome
from twinrail.compliance.domain.errors import ComplianceFault
from twinrail.compliance.domain.rules import RuleSet
from twinrail.compliance.service.decision_service import DecideMovement, DecisionService
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.pipeline.domain.compliance import Decision, ScreeningRequest, Verdict
from twinrail.pipeline.service.ports import CompliancePort
from twinrail.platform.clock import Clock, utc_now

__all__ = [
    "EngineCompliance",
    "build_engine_compliance",
    "counterparty_from_request",
    "UNAVAILABLE",
]

UNAVAILABLE = "compliance.unavailable"
_VERDICTS = {
    Outcome.ALLOW: Verdict.ALLOW,
    Outcome.REVIEW: Verdict.REVIEW,
    Outcome.BLOCK: Verdict.BLOCK,
}


def counterparty_from_request(request: ScreeningRequest) -> Counterparty | None:
    """The counterparty from optional `counterparty_*` attributes of the request, if any."""
    values = {
        key: getattr(request, f"counterparty_{key}", None)
        for key in ("name", "iban", "bic", "wallet", "country")
    }
    counterparty = Counterparty(
        name=values["name"] or "",
        iban=values["iban"],
        bic=values["bic"],
        wallet=values["wallet"],
        country=values["country"],
    )
    return counterparty if counterparty.given else None


class EngineCompliance(CompliancePort):
    """Answers the pipeline with the compliance engine's stored, explained decision."""

    def __init__(
        self,
        decisions: DecisionService,
        *,
        counterparty_of: Callable[[ScreeningRequest], Counterparty | None] = (
            counterparty_from_request
        ),
    ) -> None:
        self.decisions = decisions
        self.counterparty_of = counterparty_of

    def decide(self, request: ScreeningRequest) -> Decision:
        cmd = DecideMovement(
            order_id=request.order_id,
            customer_id=request.customer_id,
            order_type=request.order_type,
            asset=request.asset,
            amount=request.amount,
            client_id=request.client_id,
            counterparty=self.counterparty_of(request),
            customer_country=getattr(request, "customer_country", None),
            chain_id=getattr(request, "chain_id", None),
            travel_rule=getattr(request, "travel_rule", None),
        )
        try:
            recorded = self.decisions.decide(cmd)
        except (SQLAlchemyError, ComplianceFault) as exc:
            return Decision(Verdict.REVIEW, (f"{UNAVAILABLE}: {type(exc).__name__}",))
        decision = recorded.decision
        reasons = tuple(f"{r.code}: {r.detail}" if r.detail else r.code for r in decision.reasons)
        return Decision(
            _VERDICTS[decision.outcome], (*reasons, f"decision: {recorded.decision_id}")
        )


def build_engine_compliance(
    engine: Engine,
    *,
    settings: ComplianceSettings | None = None,
    screening: ScreeningService | None = None,
    clock: Clock = utc_now,
    rules: RuleSet | None = None,
    shadow_rules: RuleSet | None = None,
) -> EngineCompliance:
    """The engine wired the standard way: settings from the env, the fixed EUR price table,
    the rule set from `rule_set_path` (default: the shipped one) and an optional shadow set."""
    settings = settings or ComplianceSettings()
    screening = screening or ScreeningService(engine, settings=settings, clock=clock)
    prices = FixedPriceTable(settings.prices_eur, settings.asset_decimals)
    return EngineCompliance(
        DecisionService(
            engine, screening, prices, settings=settings, clock=clock, rules=rules,
            shadow_rules=shadow_rules,
        )
    )  # fmt: skip
