"""Deciding on one movement: screen the counterparty, value the amount, check the customer's
limits, store the decision with its inputs and reasons, and remember an allowed movement.

Screening runs against the in-memory indexes before the transaction opens. The transaction then
takes a per-customer lock (PostgreSQL), reads the profile and 30 days of approved movements,
decides, and writes the decision, the movement (when allowed), an audit record and an event in
one commit — so two concurrent orders of one customer cannot both fit under one rolling limit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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
from twinrail.compliance.service.ports import PriceSource
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.compliance.store.kyc_store import KycStore, StoredDecision
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.platform.uow import UnitOfWork

__all__ = ["DecideMovement", "RecordedDecision", "DecisionService"]


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


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """A decision and the id it is stored under."""

    decision_id: str
    decision: MovementDecision


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
    ) -> None:
        self.engine = engine
        self.screening = screening
        self.prices = prices
        self.settings = settings or screening.settings
        self.limits = self.settings.limit_schedule()
        self.clock = clock
        self.actor = actor

    def decide(self, cmd: DecideMovement, *, correlation_id: str | None = None) -> RecordedDecision:
        """Decide, store the decision (and the movement when allowed), audit it, commit."""
        screening, screening_error = self._screen(cmd.counterparty)
        price = self.prices.price(cmd.asset)
        eur_cents = eur_cents_of(cmd.amount, price) if price else None
        decision_id = f"dec_{uuid.uuid4().hex}"
        with UnitOfWork(
            self.engine, actor=self.actor, clock=self.clock, correlation_id=correlation_id
        ) as uow:
            store = KycStore(uow.connection)
            store.lock_customer(cmd.customer_id)
            now = self.clock()
            profile = store.profile(cmd.customer_id) or unverified_profile(cmd.customer_id)
            history = store.movements_since(
                cmd.customer_id, now - THIRTY_DAYS, excluding_order=cmd.order_id
            )
            inputs = DecisionInputs(
                cmd.order_id, cmd.customer_id, cmd.order_type, cmd.asset, cmd.amount, eur_cents,
                now, profile, history, self.limits, cmd.counterparty, screening, screening_error,
                self.settings.name_block_score,
            )  # fmt: skip
            decision = decide_movement(inputs)
            record = StoredDecision(
                decision_id, cmd.order_id, cmd.customer_id, decision.outcome.value,
                tuple(r.to_dict() for r in decision.reasons), self._explain(cmd, inputs, price),
                decision.rules_version, decision.limits_version, dict(decision.list_versions), now,
            )  # fmt: skip
            store.save_decision(record)
            if decision.outcome is Outcome.ALLOW and eur_cents is not None:
                if not store.has_movement(cmd.order_id):
                    store.record_movement(
                        cmd.order_id, cmd.customer_id, cmd.asset, cmd.amount, eur_cents, now
                    )
            self._announce(uow, cmd, RecordedDecision(decision_id, decision))
            uow.commit()
        return RecordedDecision(decision_id, decision)

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
        self, cmd: DecideMovement, inputs: DecisionInputs, price: AssetPrice | None
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
        }

    def decision(self, decision_id: str) -> StoredDecision | None:
        """A stored decision by id."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return KycStore(conn).decision(decision_id)

    def decisions_for_order(self, order_id: str) -> list[StoredDecision]:
        """Every decision taken on an order, oldest first: why it moved (or did not)."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return KycStore(conn).decisions_for_order(order_id)
