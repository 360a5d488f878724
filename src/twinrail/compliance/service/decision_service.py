"""Deciding on one movement: screen the counterparty, value the amount, check the customer's
limits, run the rule set (and a shadow candidate), score the customer's risk, check the travel
rule of a crypto withdrawal, store the decision with its inputs and reasons, and remember the
movement for the limits (when allowed) and for the rules (unless blocked: see `RulesStore`).

Screening runs against the in-memory indexes before the transaction opens. The transaction then
takes a per-customer lock (PostgreSQL), reads the profile and 30 days of approved movements,
decides, and writes the decision, the movement (when allowed), the rule evaluations (live and
shadow), the risk score, the travel-rule record, an audit record and an event in one commit — so
two concurrent orders of one customer cannot both fit under one rolling limit or one velocity
window.

Rapid in-and-out needs the customer's inflows. They come from the engine's own movement record
(`compliance_movement_facts`): inflow orders it decided (on-ramps) and inflows it is told about
with `record_inflow` (crypto deposits, incoming credits), not from the ledger, so that every
decision can be replayed from compliance's own data and no other context's store is read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from twinrail.compliance.domain.decision import (
    Counterparty,
    DecisionInputs,
    MovementDecision,
    Outcome,
    decide_movement,
)
from twinrail.compliance.domain.entities import IdentifierKind
from twinrail.compliance.domain.errors import InvalidScreeningQuery
from twinrail.compliance.domain.events import MovementDecided
from twinrail.compliance.domain.kyc import effective_tier, unverified_profile
from twinrail.compliance.domain.limits import DAY, THIRTY_DAYS, window_total
from twinrail.compliance.domain.prices import AssetPrice, eur_cents_of
from twinrail.compliance.domain.results import ScreeningResult
from twinrail.compliance.domain.risk import RiskModel, rule_points
from twinrail.compliance.domain.rules import (
    CustomerHistory,
    Direction,
    MovementFacts,
    RuleSet,
)
from twinrail.compliance.domain.rules_decision import RuledDecision, decide_with_rules
from twinrail.compliance.domain.travel_rule import TravelRuleCheck, check_travel_rule
from twinrail.compliance.rules import default_rule_set, read_rule_set
from twinrail.compliance.service.party_screening_service import escalate_for_party_hits
from twinrail.compliance.service.ports import PriceSource
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.compliance.store.decision_writes import DecisionWrites, load_decision_context
from twinrail.compliance.store.kyc_store import KycStore, StoredDecision
from twinrail.compliance.store.rules_store import (
    Evaluation,
    FactRecord,
    RulesStore,
    ShadowComparison,
    StoredRiskScore,
)
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.platform.uow import StagingUnitOfWork, UnitOfWork

__all__ = ["DecideMovement", "RecordInflow", "RecordedDecision", "DecisionService"]


TRAVEL_RULE_ORDER_TYPES = frozenset({"crypto_withdrawal"})


@dataclass(frozen=True, slots=True)
class DecideMovement:
    """Decide whether a customer's movement may go ahead."""

    order_id: str
    customer_id: str
    order_type: str
    asset: str
    amount: int  # minor units of `asset`
    client_id: str = ""
    counterparty: Counterparty | None = None
    customer_country: str | None = None
    chain_id: int | None = None
    travel_rule: Mapping[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True, slots=True)
class RecordInflow:
    """Tell the rules about money that came in without a decision (a deposit, a credit)."""

    reference: str  # unique per inflow, e.g. "deposit:<chain>:<tx>:<log index>"
    customer_id: str
    asset: str
    amount: int
    at: dt.datetime | None = None  # default: now


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """A decision and the id it is stored under (with its rule evaluation, when made here)."""

    decision_id: str
    decision: MovementDecision
    ruled: RuledDecision | None = None
    shadow: RuledDecision | None = None


class DecisionService:
    """The one decision every movement gets, whatever its rail."""

    def __init__(
        self,
        engine: Engine,
        screening: ScreeningService,
        prices: PriceSource,
        *,
        settings: ComplianceSettings | None = None,
        clock: Clock = utc_now,
        actor: str = "compliance",
        rules: RuleSet | None = None,
        shadow_rules: RuleSet | None = None,
    ) -> None:
        self.engine = engine
        self.screening = screening
        self.prices = prices
        self.settings = settings or screening.settings
        self.limits = self.settings.limit_schedule()
        self.clock = clock
        self.actor = actor
        path, shadow_path = self.settings.rule_set_path, self.settings.shadow_rule_set_path
        self.rules = rules or (read_rule_set(path) if path else default_rule_set())
        self.shadow_rules = shadow_rules or (read_rule_set(shadow_path) if shadow_path else None)

    def decide(self, cmd: DecideMovement, *, correlation_id: str | None = None) -> RecordedDecision:
        """Decide, store the decision and everything that explains it, audit it, commit."""
        screening, screening_error = self._screen(cmd.counterparty)
        price = self.prices.price(cmd.asset)
        eur_cents = eur_cents_of(cmd.amount, price) if price else None
        travel = self._travel_rule(cmd, eur_cents)
        decision_id = f"dec_{uuid.uuid4().hex}"
        with StagingUnitOfWork(
            self.engine, actor=self.actor, clock=self.clock, correlation_id=correlation_id
        ) as uow:
            rules_store = RulesStore(uow.connection)
            now = self.clock()
            memory = (self.rules.risk or RiskModel()).history_window
            context = load_decision_context(  # takes the customer's lock first
                uow.connection, cmd.customer_id, cmd.order_id, now, now - memory
            )
            profile = context.profile or unverified_profile(cmd.customer_id)
            history = context.window_usage
            inputs = DecisionInputs(
                cmd.order_id, cmd.customer_id, cmd.order_type, cmd.asset, cmd.amount, eur_cents,
                now, profile, history, self.limits, cmd.counterparty, screening, screening_error,
                self.settings.name_block_score,
            )  # fmt: skip
            # KYC, limits and screening first; escalations of that part (standing party hits)
            # belong on `base`, so that the live and the shadow rule sets both build on them.
            base = decide_movement(inputs)
            base = escalate_for_party_hits(  # hook (cases): hits on the customer or its owners
                uow.connection, cmd.customer_id, base, self.settings.name_block_score,
                has_hits=context.party_hits,
            )  # fmt: skip
            live, shadow = self._rule(rules_store, cmd, inputs, base, travel, context.rule_points)
            decision = live.decision
            record = StoredDecision(
                decision_id, cmd.order_id, cmd.customer_id, decision.outcome.value,
                tuple(r.to_dict() for r in decision.reasons),
                self._explain(cmd, inputs, price, live, shadow),
                decision.rules_version, decision.limits_version, dict(decision.list_versions), now,
            )  # fmt: skip
            writes = DecisionWrites(context.existing)
            writes.decision(record)
            if decision.outcome is Outcome.ALLOW and eur_cents is not None:
                writes.approved_movement(
                    cmd.order_id, cmd.customer_id, cmd.asset, cmd.amount, eur_cents, now
                )
            self._record_rules(writes, decision_id, cmd, inputs, live, shadow)
            recorded = RecordedDecision(decision_id, decision, live, shadow)
            self._announce(uow, cmd, recorded)
            uow.stage(writes.writes)
            uow.commit()
        return recorded

    def _travel_rule(self, cmd: DecideMovement, eur_cents: int | None) -> TravelRuleCheck | None:
        """The IVMS101 check of a crypto withdrawal (None for other order types)."""
        if cmd.order_type not in TRAVEL_RULE_ORDER_TYPES:
            return None
        wallet = cmd.counterparty.wallet if cmd.counterparty else None
        return check_travel_rule(cmd.travel_rule, beneficiary_wallet=wallet, eur_cents=eur_cents)

    def _rule(
        self,
        rules_store: RulesStore,
        cmd: DecideMovement,
        inputs: DecisionInputs,
        base: MovementDecision,
        travel: TravelRuleCheck | None,
        live_points: int,
    ) -> tuple[RuledDecision, RuledDecision | None]:
        """The live rule set's decision and, if a candidate runs in shadow, its would-be one.
        Both see the same history; the risk history is the live set's recorded points
        (`live_points` over the live model's memory, read with the decision's context)."""
        facts = MovementFacts(
            cmd.order_id, cmd.customer_id, cmd.order_type, inputs.eur_cents, inputs.at,
            cmd.counterparty, cmd.customer_country,
        )  # fmt: skip
        sets = [self.rules] + ([self.shadow_rules] if self.shadow_rules else [])
        history = CustomerHistory()  # no rule for this order type looks back: load nothing
        if any(s.reads_history(cmd.order_type) for s in sets):
            window = max(s.longest_window(cmd.order_type) for s in sets)
            history = rules_store.history(
                cmd.customer_id, since=inputs.at - window, until=inputs.at,
                beneficiary=facts.beneficiary, excluding_order=cmd.order_id,
            )  # fmt: skip
        decided = []
        for rule_set in sets:
            points = live_points
            if rule_set is not self.rules:
                memory = (rule_set.risk or RiskModel()).history_window
                points = rules_store.rule_points_since(
                    cmd.customer_id, inputs.at - memory, excluding_order=cmd.order_id
                )
            decided.append(
                decide_with_rules(base, rule_set, facts, history, inputs.profile,
                                  past_rule_points=points, travel_rule=travel)
            )  # fmt: skip
        return decided[0], (decided[1] if len(decided) > 1 else None)

    def _record_rules(
        self,
        writes: DecisionWrites,
        decision_id: str,
        cmd: DecideMovement,
        inputs: DecisionInputs,
        live: RuledDecision,
        shadow: RuledDecision | None,
    ) -> None:
        """Stage the movement for later rules, the evaluations, the score, the travel rule."""
        now, outcome = inputs.at, live.decision.outcome
        if inputs.eur_cents is not None:
            facts = MovementFacts(cmd.order_id, cmd.customer_id, cmd.order_type,
                                  inputs.eur_cents, now, cmd.counterparty)  # fmt: skip
            points = rule_points(self.rules.risk or RiskModel(), live.hits)
            writes.fact(
                FactRecord(cmd.order_id, cmd.customer_id, facts.direction, cmd.order_type,
                           outcome, inputs.eur_cents, facts.beneficiary, points, now)
            )  # fmt: skip
        writes.evaluations(
            [
                Evaluation(decision_id, mode, cmd.order_id, cmd.customer_id,
                           ruled.rule_set_version, ruled.decision.outcome.value,
                           outcome.value, ruled.fired,
                           tuple(r.to_dict() for r in ruled.decision.reasons),
                           ruled.risk.to_dict(), now)
                for mode, ruled in (("live", live), ("shadow", shadow))
                if ruled is not None
            ]
        )  # fmt: skip
        risk = live.risk
        writes.risk_score(
            StoredRiskScore(cmd.customer_id, risk.score, risk.band,
                            tuple(f.to_dict() for f in risk.factors), live.rule_set_version,
                            decision_id, now)
        )  # fmt: skip
        if live.travel_rule is not None:
            writes.travel_rule(
                decision_id, cmd.order_id, cmd.customer_id, live.travel_rule.to_dict(), now
            )

    def record_inflow(self, cmd: RecordInflow) -> bool:
        """Remember an inflow for the rules (rapid in-and-out); False when the reference was
        recorded already or the asset has no EUR price. Idempotent per reference."""
        price = self.prices.price(cmd.asset)
        if price is None:
            return False
        with UnitOfWork(self.engine, actor=self.actor, clock=self.clock) as uow:
            store = KycStore(uow.connection)
            store.lock_customer(cmd.customer_id)
            rules_store = RulesStore(uow.connection)
            if rules_store.has_fact(cmd.reference):
                return False
            rules_store.record_fact(
                FactRecord(cmd.reference, cmd.customer_id, Direction.IN, "inflow", Outcome.ALLOW,
                           eur_cents_of(cmd.amount, price), None, 0, cmd.at or self.clock())
            )  # fmt: skip
            uow.audit("compliance.inflow", f"customer:{cmd.customer_id}", reference=cmd.reference)
            uow.commit()
        return True

    @staticmethod
    def _announce(uow: UnitOfWork, cmd: DecideMovement, recorded: RecordedDecision) -> None:
        """Queue the decision's event and audit record on `uow`."""
        decision = recorded.decision
        uow.publish(
            [MovementDecided(recorded.decision_id, cmd.order_id, cmd.customer_id,
                             decision.outcome.value, decision.codes)]
        )  # fmt: skip
        uow.audit(
            "compliance.decide",
            f"order:{cmd.order_id}",
            outcome=decision.outcome.value,
            decision_id=recorded.decision_id,
            customer_id=cmd.customer_id,
            codes=list(decision.codes),
            rules_version=decision.rules_version,
            limits_version=decision.limits_version,
            rule_set_version=recorded.ruled.rule_set_version if recorded.ruled else None,
            rules_fired=list(recorded.ruled.fired) if recorded.ruled else [],
        )

    def _screen(
        self, counterparty: Counterparty | None
    ) -> tuple[ScreeningResult | None, str | None]:
        if counterparty is None or not counterparty.given:
            return None, None
        identifiers = [
            (kind, value)
            for kind, value in (
                (IdentifierKind.IBAN, counterparty.iban),
                (IdentifierKind.BIC, counterparty.bic),
                (IdentifierKind.WALLET, counterparty.wallet),
            )
            if value
        ]
        try:
            result = self.screening.screen_party(
                counterparty.name, country=counterparty.country, identifiers=identifiers
            )
        except InvalidScreeningQuery as exc:
            return None, f"{exc.message} {exc.context}".strip()
        return result, None

    def _explain(
        self,
        cmd: DecideMovement,
        inputs: DecisionInputs,
        price: AssetPrice | None,
        live: RuledDecision,
        shadow: RuledDecision | None,
    ) -> dict[str, object]:
        """The inputs as stored: enough to replay the decision and answer 'why' later."""
        limits = self.limits.for_tier(effective_tier(inputs.profile))
        hits = inputs.screening.hits if inputs.screening else ()
        return {
            "client_id": cmd.client_id,
            "order_type": cmd.order_type,
            "asset": cmd.asset,
            "amount": str(cmd.amount),
            "eur_cents": inputs.eur_cents,
            "price": None if price is None else {"eur": str(price.eur), "decimals": price.decimals},
            "profile": {
                "status": inputs.profile.status.value,
                "tier": int(inputs.profile.tier),
                "version": inputs.profile.version,
            },
            "tier_limits": {
                "per_transaction": limits.per_transaction,
                "per_day": limits.per_day,
                "per_30_days": limits.per_30_days,
            },
            "used_day": window_total(inputs.history, inputs.at, DAY),
            "used_30_days": window_total(inputs.history, inputs.at, THIRTY_DAYS),
            "counterparty": inputs.counterparty.to_dict() if inputs.counterparty else None,
            "screening_hits": [h.to_dict() for h in hits],
            "screening_error": inputs.screening_error,
            "name_block_score": inputs.name_block_score,
            "customer_country": cmd.customer_country,
            "chain_id": cmd.chain_id,
            "rule_set_version": live.rule_set_version,
            "rules_fired": [h.to_dict() for h in live.hits],
            "risk": live.risk.to_dict(),
            "travel_rule": live.travel_rule.to_dict() if live.travel_rule else None,
            "shadow_rule_set_version": shadow.rule_set_version if shadow else None,
        }

    def decision(self, decision_id: str) -> StoredDecision | None:
        """A stored decision by id."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return KycStore(conn).decision(decision_id)

    def decisions_for_order(self, order_id: str) -> list[StoredDecision]:
        """Every decision taken on an order, oldest first: why it moved (or did not)."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return KycStore(conn).decisions_for_order(order_id)

    def evaluations(self, decision_id: str) -> list[Evaluation]:
        """The live and shadow rule evaluations of a decision."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return RulesStore(conn).evaluations(decision_id)

    def risk_score(self, customer_id: str) -> StoredRiskScore | None:
        """A customer's latest risk score and its factors."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return RulesStore(conn).risk_score(customer_id)

    def shadow_report(self, rule_set_version: str | None = None) -> list[ShadowComparison]:
        """How each shadow rule set's would-be decisions compare with the live ones."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return RulesStore(conn).shadow_comparisons(rule_set_version)

    def shadow_differences(self, rule_set_version: str, limit: int = 50) -> list[Evaluation]:
        """The latest decisions a shadow rule set would have decided differently."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return RulesStore(conn).shadow_differences(rule_set_version, limit)

    def travel_rule_records(self, order_id: str) -> list[dict[str, Any]]:
        """The travel-rule records (IVMS101 and problems) stored with an order's decisions."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return RulesStore(conn).travel_rule_for_order(order_id)
