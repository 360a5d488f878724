"""The pipeline service with real ledger and rails: concurrency, deferred rails, missing rails."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine

from twinrail.ledger.domain.commands import DefineAsset, OpenAccount
from twinrail.ledger.domain.model import Limits, Side
from twinrail.ledger.service.group_commit import GroupCommitter
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.pipeline.adapters.internal_rail import InternalRail
from twinrail.pipeline.adapters.limit_compliance import AmountLimitCompliance
from twinrail.pipeline.domain.errors import OrderNotCancellable, RailNotEnabled
from twinrail.pipeline.domain.model import OrderState, OrderType, PaymentOrder
from twinrail.pipeline.service.payment_orders import CreatePaymentOrder, PaymentOrderService
from twinrail.pipeline.service.ports import Rail, RailOutcome, RailRegistry

from .conftest import fund


class DeferredRail(Rail):
    """A rail that accepts orders and answers later, as a bank or a chain does."""

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


def _customer_account(ledger: LedgerService) -> str:
    account_id = f"la_{uuid.uuid4().hex[:12]}"
    ledger.open_account(
        OpenAccount(account_id, "EUR", "customer_funds", "c", Side.CREDIT,
                    Limits(debits_must_not_exceed_credits=True))
    )  # fmt: skip
    return account_id


def _cmd(src: str, dst: str, amount: int, order_type: OrderType = OrderType.INTERNAL_TRANSFER):  # type: ignore[no-untyped-def]
    return CreatePaymentOrder(
        order_id=f"po_{uuid.uuid4().hex}", client_id="cli_1", customer_id="cus_1",
        type=order_type, asset="EUR", amount=amount, source_account=src, destination_account=dst,
    )  # fmt: skip


@pytest.fixture
def ledger(engine: Engine) -> LedgerService:
    service = LedgerService(engine)
    service.define_asset(DefineAsset("EUR", 2))
    return service


def test_concurrent_orders_never_spend_more_than_the_balance(
    engine: Engine, ledger: LedgerService
) -> None:
    src, dst = _customer_account(ledger), _customer_account(ledger)
    fund(ledger, src, 1000)
    with GroupCommitter(ledger) as committer:
        rails = RailRegistry([InternalRail(ledger, committer=committer)])
        service = PaymentOrderService(engine, rails, AmountLimitCompliance())
        results: list[PaymentOrder] = []
        barrier = threading.Barrier(12)

        def place() -> None:
            barrier.wait()
            results.append(service.create(_cmd(src, dst, 100)))

        threads = [threading.Thread(target=place) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    states = sorted(order.state.value for order in results)
    assert states == ["completed"] * 10 + ["failed"] * 2
    assert ledger.balance(src).available == 0 and ledger.balance(dst).posted == 1000


def test_an_order_on_a_deferred_rail_waits_in_processing_and_can_no_longer_be_cancelled(
    engine: Engine,
) -> None:
    service = PaymentOrderService(engine, RailRegistry([DeferredRail()]), AmountLimitCompliance())
    order = service.create(_cmd("a", "b", 10, OrderType.BANK_PAYMENT))
    assert order.state is OrderState.PROCESSING
    with pytest.raises(OrderNotCancellable):
        service.cancel(order.id, "cli_1", actor="test")


def test_an_order_type_without_a_rail_is_refused_before_it_is_recorded(
    engine: Engine,
) -> None:
    service = PaymentOrderService(engine, RailRegistry(), AmountLimitCompliance())
    with pytest.raises(RailNotEnabled):
        service.create(_cmd("a", "b", 10, OrderType.CRYPTO_WITHDRAWAL))
    assert service.orders(None, None, 10) == []
