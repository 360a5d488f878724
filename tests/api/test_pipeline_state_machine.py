"""The payment order state machine (pure): allowed moves, terminal states, cancellation window."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from dataclasses import replace

import pytest

import twinrail.api
import twinrail.pipeline
from twinrail.pipeline.adapters.limit_compliance import AmountLimitCompliance
from twinrail.pipeline.domain.compliance import ScreeningRequest, Verdict
from twinrail.pipeline.domain.errors import InvalidOrder, InvalidTransition, OrderNotCancellable
from twinrail.pipeline.domain.model import (
    ALLOWED_TRANSITIONS,
    TERMINAL_STATES,
    OrderState,
    OrderType,
    PaymentOrder,
    check_cancellable,
    new_order,
    transition,
)

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _order(**changes: object) -> PaymentOrder:
    order = PaymentOrder(
        id="po_1", client_id="cli_1", customer_id="cus_1", type=OrderType.INTERNAL_TRANSFER,
        state=OrderState.CREATED, asset="EUR", amount=100, source_account="a",
        destination_account="b", reference="", created_at=AT, updated_at=AT,
    )  # fmt: skip
    return replace(order, **changes)  # type: ignore[arg-type]


def test_the_happy_path_is_a_chain_of_allowed_moves_each_an_event() -> None:
    order, created = new_order(_order())
    events = [created]
    for to in ("screening", "approved", "processing", "completed"):
        order, event = transition(order, OrderState(to), f"to {to}", AT)
        events.append(event)
    assert [e.to_state.value for e in events] == [
        "created", "screening", "approved", "processing", "completed"
    ]  # fmt: skip
    assert [e.stream_version for e in events] == [1, 2, 3, 4, 5]
    assert events[-1].payload()["from"] == "processing"


def test_terminal_states_allow_no_move_except_a_return_after_completion() -> None:
    for state in TERMINAL_STATES:
        allowed = ALLOWED_TRANSITIONS[state]
        assert allowed == ({OrderState.RETURNED} if state is OrderState.COMPLETED else set())


def test_a_forbidden_move_raises_invalid_transition() -> None:
    with pytest.raises(InvalidTransition):
        transition(_order(), OrderState.COMPLETED, "skipping ahead", AT)


@pytest.mark.parametrize("state", list(OrderState))
def test_cancellation_is_allowed_only_until_the_rail_has_accepted(state: OrderState) -> None:
    order = _order(state=state)
    if state in {OrderState.CREATED, OrderState.SCREENING, OrderState.IN_REVIEW,
                 OrderState.APPROVED}:  # fmt: skip
        check_cancellable(order)
    else:
        with pytest.raises(OrderNotCancellable):
            check_cancellable(order)


def test_a_malformed_order_is_refused_before_it_exists() -> None:
    with pytest.raises(InvalidOrder):
        new_order(_order(amount=0))
    with pytest.raises(InvalidOrder):
        new_order(_order(destination_account="a"))


def test_limits_block_per_customer_before_per_asset_and_review_above_a_threshold() -> None:
    compliance = AmountLimitCompliance(
        default_limits={"EUR": 1000}, customer_limits={"cus_vip": 50_000},
        review_limits={"EUR": 800},
    )  # fmt: skip

    def verdict(customer: str, amount: int) -> Verdict:
        request = ScreeningRequest("po", "cli", customer, "internal_transfer", "EUR", amount)
        return compliance.decide(request).verdict

    assert verdict("cus_a", 700) is Verdict.ALLOW
    assert verdict("cus_a", 900) is Verdict.REVIEW
    assert verdict("cus_a", 1001) is Verdict.BLOCK
    assert verdict("cus_vip", 20_000) is Verdict.REVIEW
    assert verdict("cus_vip", 50_001) is Verdict.BLOCK


@pytest.mark.parametrize("package", [twinrail.api, twinrail.pipeline], ids=lambda p: p.__name__)
def test_every_module_declares_its_exports(package: object) -> None:
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):  # type: ignore[attr-defined]
        module = importlib.import_module(info.name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{info.name} has no __all__"
        for name in exported:
            assert hasattr(module, name), f"{info.name}.__all__ names missing {name}"
