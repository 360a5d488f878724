"""Payment orders and the one state machine every order type follows.

created → screening → (in_review) → approved → processing → (awaiting_sca) → completed,
or rejected, failed, cancelled, returned. Every move is a `OrderTransitioned` event carrying its
reason; the order keeps its history of moves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar

from twinrail.pipeline.domain.errors import InvalidOrder, InvalidTransition, OrderNotCancellable

__all__ = [
    "OrderType",
    "OrderState",
    "TERMINAL_STATES",
    "ALLOWED_TRANSITIONS",
    "PaymentOrder",
    "OrderTransitioned",
    "new_order",
    "transition",
    "check_cancellable",
]


class OrderType(StrEnum):
    INTERNAL_TRANSFER = "internal_transfer"
    BANK_PAYMENT = "bank_payment"
    CRYPTO_WITHDRAWAL = "crypto_withdrawal"
    ON_RAMP = "on_ramp"
    OFF_RAMP = "off_ramp"


class OrderState(StrEnum):
    CREATED = "created"
    SCREENING = "screening"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PROCESSING = "processing"
    AWAITING_SCA = "awaiting_sca"
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RETURNED = "returned"


S = OrderState
TERMINAL_STATES = frozenset({S.COMPLETED, S.REJECTED, S.FAILED, S.CANCELLED, S.RETURNED})
ALLOWED_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.CREATED: frozenset({S.SCREENING, S.CANCELLED}),
    S.SCREENING: frozenset({S.IN_REVIEW, S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.PROCESSING, S.FAILED, S.CANCELLED}),
    S.PROCESSING: frozenset({S.AWAITING_SCA, S.COMPLETED, S.FAILED}),
    S.AWAITING_SCA: frozenset({S.PROCESSING, S.COMPLETED, S.FAILED, S.CANCELLED}),
    S.COMPLETED: frozenset({S.RETURNED}),
    S.REJECTED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
}
# Until a rail has accepted the order (processing), a client may still cancel it.
_CANCELLABLE = frozenset({S.CREATED, S.SCREENING, S.IN_REVIEW, S.APPROVED})


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """One movement of money, whatever its rail."""

    id: str
    client_id: str
    customer_id: str
    type: OrderType
    state: OrderState
    asset: str
    amount: int
    source_account: str  # ledger account ids; the api maps its own ids to these
    destination_account: str
    reference: str
    created_at: dt.datetime
    updated_at: dt.datetime
    reason: str = ""  # why it is in its current state
    metadata: dict[str, Any] = field(default_factory=dict)
    version: int = 1


@dataclass(frozen=True, slots=True)
class OrderTransitioned:
    """An order moved from one state to another, for a reason."""

    topic: ClassVar[str] = "pipeline.order_transitioned"
    order_id: str
    client_id: str
    from_state: OrderState | None
    to_state: OrderState
    reason: str
    at: dt.datetime
    version: int

    @property
    def stream_id(self) -> str:
        return f"payment_order:{self.order_id}"

    @property
    def stream_version(self) -> int:
        return self.version

    def payload(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "client_id": self.client_id,
            "from": self.from_state.value if self.from_state else None,
            "to": self.to_state.value,
            "reason": self.reason,
            "at": self.at.isoformat(),
        }


def new_order(order: PaymentOrder) -> tuple[PaymentOrder, OrderTransitioned]:
    """Check an order's shape and record its creation."""
    if order.amount <= 0:
        raise InvalidOrder("amount must be positive", amount=str(order.amount))
    if order.source_account == order.destination_account:
        raise InvalidOrder("source and destination must differ")
    created = replace(order, state=S.CREATED, version=1, reason="created")
    event = OrderTransitioned(
        order.id, order.client_id, None, S.CREATED, "created", order.created_at, 1
    )
    return created, event


def transition(
    order: PaymentOrder, to: OrderState, reason: str, at: dt.datetime
) -> tuple[PaymentOrder, OrderTransitioned]:
    """Move `order` to `to`, or raise InvalidTransition."""
    if to not in ALLOWED_TRANSITIONS[order.state]:
        raise InvalidTransition(
            f"a {order.state.value} order cannot become {to.value}",
            order_id=order.id,
            state=order.state.value,
            to=to.value,
        )
    moved = replace(order, state=to, reason=reason, updated_at=at, version=order.version + 1)
    event = OrderTransitioned(order.id, order.client_id, order.state, to, reason, at, moved.version)
    return moved, event


def check_cancellable(order: PaymentOrder) -> None:
    """Raise OrderNotCancellable once the rail has accepted the order (or it has ended)."""
    if order.state not in _CANCELLABLE:
        raise OrderNotCancellable(
            f"a {order.state.value} order can no longer be cancelled",
            order_id=order.id,
            state=order.state.value,
        )
