"""After the request: rails that answer later, orders a crash left behind, review decisions."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Engine

from tests.conftest import ManualClock
from twinrail.ledger.domain.commands import DefineAsset, OpenAccount
from twinrail.ledger.domain.model import Limits, Side
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.pipeline.adapters.internal_rail import InternalRail
from twinrail.pipeline.domain.compliance import Decision, ScreeningRequest, Verdict
from twinrail.pipeline.domain.model import OrderState, OrderType, PaymentOrder
from twinrail.pipeline.service import review_decisions
from twinrail.pipeline.service.payment_orders import CreatePaymentOrder, PaymentOrderService
from twinrail.pipeline.service.ports import CompliancePort, Rail, RailOutcome, RailRegistry
from twinrail.platform.bus import InProcessBus
from twinrail.platform.outbox import OutboxMessage

from .conftest import fund


class BankLikeRail(Rail):
    """Accepts orders and answers later with whatever the test sets."""

    order_type = OrderType.BANK_PAYMENT

    def __init__(self) -> None:
        self.answer = RailOutcome(completed=False, reason="pending at the bank")
        self.submitted: list[str] = []
        self.released: list[str] = []
        self.state_at_submit: list[OrderState] = []

    def validate(self, order: PaymentOrder) -> None:
        pass

    def reserve(self, order: PaymentOrder) -> None:
        pass

    def submit(self, order: PaymentOrder) -> RailOutcome:
        self.submitted.append(order.id)
        return RailOutcome(completed=False, reason="accepted by the bank")

    def status(self, order: PaymentOrder) -> RailOutcome:  # noqa: ARG002
        return self.answer

    def release(self, order: PaymentOrder) -> None:
        self.released.append(order.id)


class CrashingOnce(InternalRail):
    """The internal rail, but the process 'dies' the first time it would reserve funds."""

    crashed = False

    def reserve(self, order: PaymentOrder) -> None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("killed before the hold")
        super().reserve(order)


class Fixed(CompliancePort):
    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict

    def decide(self, request: ScreeningRequest) -> Decision:  # noqa: ARG002
        return Decision(self.verdict, (f"rule says {self.verdict.value}",))


@pytest.fixture
def ledger(engine: Engine, clock: ManualClock) -> LedgerService:
    service = LedgerService(engine, clock=clock)
    service.define_asset(DefineAsset("EUR", 2))
    return service


def _accounts(ledger: LedgerService, funds: int) -> tuple[str, str]:
    ids = []
    for _ in range(2):
        account_id = f"la_{uuid.uuid4().hex[:12]}"
        ledger.open_account(
            OpenAccount(account_id, "EUR", "customer_funds", "c", Side.CREDIT,
                        Limits(debits_must_not_exceed_credits=True))
        )  # fmt: skip
        ids.append(account_id)
    fund(ledger, ids[0], funds)
    return ids[0], ids[1]


def _cmd(src: str, dst: str, amount: int, order_type: OrderType) -> CreatePaymentOrder:
    return CreatePaymentOrder(
        order_id=f"po_{uuid.uuid4().hex}", client_id="cli_1", customer_id="cus_1",
        type=order_type, asset="EUR", amount=amount, source_account=src, destination_account=dst,
    )  # fmt: skip


def _states(service: PaymentOrderService, order_id: str) -> list[str]:
    return [to for _, to, _ in service.history(order_id)]


def test_a_rail_that_answers_later_is_followed_up_until_it_completes(
    engine: Engine, clock: ManualClock
) -> None:
    rail = BankLikeRail()
    service = PaymentOrderService(engine, RailRegistry([rail]), Fixed(Verdict.ALLOW), clock=clock)
    order = service.create(_cmd("a", "b", 10, OrderType.BANK_PAYMENT))
    # the hand-over was recorded before the rail saw the order
    assert order.state is OrderState.PROCESSING
    assert _states(service, order.id)[-1] == "processing"

    assert service.follow_up() == 0
    rail.answer = RailOutcome(completed=True, reason="ACSC at the bank")
    assert service.follow_up() == 1
    assert service.follow_up() == 0
    done = service.get(order.id, None)
    assert done.state is OrderState.COMPLETED and done.reason == "ACSC at the bank"
    assert rail.submitted == [order.id] and rail.released == []


def test_one_follow_up_reaches_every_order_however_many_pages_they_fill(
    engine: Engine, clock: ManualClock
) -> None:
    rail = BankLikeRail()
    service = PaymentOrderService(engine, RailRegistry([rail]), Fixed(Verdict.ALLOW), clock=clock)
    orders = []
    for _ in range(5):
        orders.append(service.create(_cmd("a", "b", 10, OrderType.BANK_PAYMENT)))
        clock.advance(seconds=1)
    rail.answer = RailOutcome(completed=True, reason="ACSC at the bank")
    assert service.follow_up(page=2) == 5
    assert {service.get(o.id, None).state for o in orders} == {OrderState.COMPLETED}


def test_a_rail_failure_found_by_the_follow_up_releases_the_funds(
    engine: Engine, clock: ManualClock
) -> None:
    rail = BankLikeRail()
    service = PaymentOrderService(engine, RailRegistry([rail]), Fixed(Verdict.ALLOW), clock=clock)
    order = service.create(_cmd("a", "b", 10, OrderType.BANK_PAYMENT))
    rail.answer = RailOutcome(completed=False, failed=True, reason="RJCT AC04 closed account")
    assert service.follow_up() == 1
    failed = service.get(order.id, None)
    assert failed.state is OrderState.FAILED and "AC04" in failed.reason
    assert rail.released == [order.id]


def test_an_order_a_crash_left_approved_is_carried_on_once(
    engine: Engine, ledger: LedgerService, clock: ManualClock
) -> None:
    src, dst = _accounts(ledger, 500)
    rail = CrashingOnce(ledger)
    service = PaymentOrderService(engine, RailRegistry([rail]), Fixed(Verdict.ALLOW), clock=clock)
    cmd = _cmd(src, dst, 200, OrderType.INTERNAL_TRANSFER)
    with pytest.raises(RuntimeError):
        service.create(cmd)
    assert service.get(cmd.order_id, None).state is OrderState.APPROVED

    assert service.resume(idle_for=dt.timedelta(seconds=30)) == 0  # it may still be running
    clock.advance(seconds=31)
    assert service.resume(idle_for=dt.timedelta(seconds=30)) == 1
    assert service.resume(idle_for=dt.timedelta(seconds=30)) == 0
    assert service.get(cmd.order_id, None).state is OrderState.COMPLETED
    assert ledger.balance(src).posted == 300 and ledger.balance(dst).posted == 200


def test_a_review_decision_on_the_bus_releases_or_blocks_the_order(
    engine: Engine, ledger: LedgerService, clock: ManualClock
) -> None:
    src, dst = _accounts(ledger, 1_000)
    rails = RailRegistry([InternalRail(ledger)])
    service = PaymentOrderService(engine, rails, Fixed(Verdict.REVIEW), clock=clock)
    released = service.create(_cmd(src, dst, 300, OrderType.INTERNAL_TRANSFER))
    blocked = service.create(_cmd(src, dst, 400, OrderType.INTERNAL_TRANSFER))
    assert released.state is blocked.state is OrderState.IN_REVIEW
    assert ledger.balance(src).available == 1_000  # nothing held while in review

    bus = InProcessBus()
    review_decisions.subscribe(bus, service)
    decisions = [
        _decision(released.id, "allow", ["officer:ann", "officer:bob"]),
        _decision(blocked.id, "block", ["officer:ann"]),
    ]
    bus.publish(decisions)
    bus.publish(decisions)  # redelivered: changes nothing

    assert service.get(released.id, None).state is OrderState.COMPLETED
    rejected = service.get(blocked.id, None)
    assert rejected.state is OrderState.REJECTED and "blocked" in rejected.reason
    assert ledger.balance(dst).posted == 300 and ledger.balance(src).posted == 700
    assert _states(service, released.id) == [
        "created", "screening", "in_review", "approved", "processing", "completed",
    ]  # fmt: skip


def test_a_decision_for_an_order_cancelled_meanwhile_changes_nothing(
    engine: Engine, ledger: LedgerService, clock: ManualClock
) -> None:
    src, dst = _accounts(ledger, 1_000)
    service = PaymentOrderService(
        engine, RailRegistry([InternalRail(ledger)]), Fixed(Verdict.REVIEW), clock=clock
    )
    order = service.create(_cmd(src, dst, 300, OrderType.INTERNAL_TRANSFER))
    service.cancel(order.id, "cli_1", actor="client:cli_1")
    review_decisions.apply_review_decision(service, _decision(order.id, "allow", ["officer:ann"]))
    assert service.get(order.id, None).state is OrderState.CANCELLED
    assert ledger.balance(dst).posted == 0


def test_a_writer_that_started_from_a_stale_version_loses(
    engine: Engine, ledger: LedgerService, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dst = _accounts(ledger, 1_000)
    service = PaymentOrderService(
        engine, RailRegistry([InternalRail(ledger)]), Fixed(Verdict.REVIEW), clock=clock
    )
    order = service.create(_cmd(src, dst, 300, OrderType.INTERNAL_TRANSFER))
    stale = service.get(order.id, None)
    service.resolve_review(order.id, allow=False, reason="blocked", actor="officer:ann")

    reads = iter([stale])  # the second writer read the order before the first one wrote
    real_get = service.get
    monkeypatch.setattr(service, "get", lambda *a: next(reads, None) or real_get(*a))
    result = service.resolve_review(order.id, allow=True, reason="released", actor="officer:bob")

    assert result.state is OrderState.REJECTED
    assert _states(service, order.id) == ["created", "screening", "in_review", "rejected"]
    assert ledger.balance(dst).posted == 0


def _decision(order_id: str, verdict: str, by: list[str]) -> OutboxMessage:
    return OutboxMessage(
        event_id=str(uuid.uuid4()),
        topic=review_decisions.REVIEW_DECIDED,
        stream_id=f"case:{order_id}",
        stream_version=1,
        payload={"order_id": order_id, "client_id": "cli_1", "verdict": verdict,
                 "reasons": ["reviewed"], "decided_by": by},
        occurred_at=dt.datetime.now(dt.UTC),
    )  # fmt: skip
