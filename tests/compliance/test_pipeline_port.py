"""The engine answers the pipeline's CompliancePort, called by the real payment order service."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from tests.conftest import ManualClock
from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.adapters.pipeline_port import (
    UNAVAILABLE,
    EngineCompliance,
    build_engine_compliance,
    counterparty_from_request,
)
from twinrail.compliance.domain.decision import Counterparty
from twinrail.compliance.service.decision_service import DecisionService
from twinrail.compliance.service.kyc_service import KycService, SetKycProfile
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.pipeline.domain.compliance import ScreeningRequest, Verdict
from twinrail.pipeline.domain.model import OrderState, OrderType, PaymentOrder
from twinrail.pipeline.service.payment_orders import CreatePaymentOrder, PaymentOrderService
from twinrail.pipeline.service.ports import CompliancePort, Rail, RailOutcome, RailRegistry
from twinrail.platform.db import create_db_engine


class BankRail(Rail):
    """A rail that accepts orders and answers later; no ledger needed to see the decision."""

    order_type = OrderType.BANK_PAYMENT

    def validate(self, order: PaymentOrder) -> None:
        pass

    def reserve(self, order: PaymentOrder) -> None:
        pass

    def submit(self, order: PaymentOrder) -> RailOutcome:  # noqa: ARG002
        return RailOutcome(completed=False, reason="accepted by the bank")

    def status(self, order: PaymentOrder) -> RailOutcome:  # noqa: ARG002
        return RailOutcome(completed=False)

    def release(self, order: PaymentOrder) -> None:
        pass


def engine_compliance(
    engine: Engine,
    screening: ScreeningService,
    clock: ManualClock,
    counterparty_of: Callable[[ScreeningRequest], Counterparty | None] = counterparty_from_request,
) -> EngineCompliance:
    settings = ComplianceSettings()
    prices = FixedPriceTable(settings.prices_eur, settings.asset_decimals)
    decisions = DecisionService(engine, screening, prices, clock=clock)
    return EngineCompliance(decisions, counterparty_of=counterparty_of)


def create(
    pipeline: PaymentOrderService, customer: str, amount: int, order_id: str = ""
) -> PaymentOrder:
    return pipeline.create(
        CreatePaymentOrder(
            order_id=order_id or f"po_{uuid.uuid4().hex}", client_id="cli_1", customer_id=customer,
            type=OrderType.BANK_PAYMENT, asset="EUR", amount=amount, source_account="la_src",
            destination_account="la_dst",
        )
    )  # fmt: skip


def test_the_engine_is_a_compliance_port(engine: Engine, clock: ManualClock) -> None:
    port = build_engine_compliance(engine, clock=clock)
    assert isinstance(port, CompliancePort)
    decision = port.decide(
        ScreeningRequest("po_0", "cli_1", "cus_0", "internal_transfer", "EUR", 1)
    )
    assert decision.verdict is Verdict.ALLOW and decision.reasons[0].startswith("limits.within")


def test_the_pipeline_approves_within_limits_and_rejects_above_them_with_reason_codes(
    engine: Engine, service: ScreeningService, clock: ManualClock
) -> None:
    port = engine_compliance(engine, service, clock)
    pipeline = PaymentOrderService(engine, RailRegistry([BankRail()]), port, clock=clock)
    customer = f"cus_{uuid.uuid4().hex[:8]}"
    approved = create(pipeline, customer, 150_00)
    assert approved.state is OrderState.PROCESSING
    rejected = create(pipeline, customer, 150_01)
    assert rejected.state is OrderState.REJECTED
    assert rejected.reason.startswith("limits.per_transaction_exceeded: tier 0")
    why = port.decisions.decisions_for_order(rejected.id)
    assert why[0].outcome == "block" and f"decision: {why[0].decision_id}" in rejected.reason


def test_a_verified_customer_moves_more_through_the_pipeline(
    engine: Engine, service: ScreeningService, clock: ManualClock
) -> None:
    customer = f"cus_{uuid.uuid4().hex[:8]}"
    KycService(engine, clock=clock).set_profile(SetKycProfile(customer, "verified", 1))
    pipeline = PaymentOrderService(
        engine, RailRegistry([BankRail()]), engine_compliance(engine, service, clock), clock=clock
    )
    assert create(pipeline, customer, 5_000_00).state is OrderState.PROCESSING


def test_a_sanctioned_counterparty_rejects_the_order_in_the_pipeline(
    engine: Engine, loaded: ScreeningService, clock: ManualClock
) -> None:
    order_id = f"po_{uuid.uuid4().hex}"
    counterparties = {order_id: Counterparty(name="Dmitry Karpov")}
    port = engine_compliance(
        engine, loaded, clock, counterparty_of=lambda r: counterparties.get(r.order_id)
    )
    pipeline = PaymentOrderService(engine, RailRegistry([BankRail()]), port, clock=clock)
    rejected = create(pipeline, "cus_1", 10_00, order_id)
    assert rejected.state is OrderState.REJECTED
    assert rejected.reason.startswith("sanctions.counterparty_name_hit")


def test_when_the_engine_cannot_decide_the_order_goes_to_review_not_through(
    tmp_path: Path, service: ScreeningService, clock: ManualClock
) -> None:
    unmigrated = create_db_engine(f"sqlite:///{tmp_path}/empty.db")
    port = engine_compliance(unmigrated, service, clock)
    decision = port.decide(ScreeningRequest("po_1", "cli_1", "cus_1", "bank_payment", "EUR", 1))
    assert decision.verdict is Verdict.REVIEW and decision.reasons[0].startswith(UNAVAILABLE)
    unmigrated.dispose()


def test_an_asset_without_a_price_goes_to_review(
    engine: Engine, service: ScreeningService, clock: ManualClock
) -> None:
    port = engine_compliance(engine, service, clock)
    decision = port.decide(
        ScreeningRequest("po_2", "cli_1", "cus_1", "crypto_withdrawal", "XYZ", 1)
    )
    assert decision.verdict is Verdict.REVIEW
    assert decision.reasons[0].startswith("price.unknown_asset")
