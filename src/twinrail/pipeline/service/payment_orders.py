"""Payment orders: screen, hold, submit, complete — each move saved with its event and audit.

The order is saved (created → screening → approved, or rejected / in_review) before any money
moves, so the intent is durable; the rail then reserves, and the order records the outcome.
Four commits for an internal transfer: order, hold (shared through group commit), post, order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from twinrail.ledger.domain.errors import LedgerRejection
from twinrail.pipeline.domain.compliance import ScreeningRequest, Verdict
from twinrail.pipeline.domain.errors import OrderNotCancellable, UnknownOrder
from twinrail.pipeline.domain.model import (
    OrderState,
    OrderTransitioned,
    OrderType,
    PaymentOrder,
    check_cancellable,
    new_order,
    transition,
)
from twinrail.pipeline.service.ports import CompliancePort, RailRegistry
from twinrail.pipeline.store.order_store import OrderStore, StaleOrder
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.platform.uow import UnitOfWork

__all__ = ["PaymentOrderService", "CreatePaymentOrder"]


@dataclass(frozen=True, slots=True)
class CreatePaymentOrder:
    """Move `amount` minor units of `asset` between two ledger accounts of one client."""

    order_id: str
    client_id: str
    customer_id: str
    type: OrderType
    asset: str
    amount: int
    source_account: str
    destination_account: str
    reference: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class PaymentOrderService:
    """The one entry for money movements."""

    def __init__(
        self,
        engine: Engine,
        rails: RailRegistry,
        compliance: CompliancePort,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.rails = rails
        self.compliance = compliance
        self.clock = clock

    def create(self, cmd: CreatePaymentOrder) -> PaymentOrder:
        """Take an order and drive it as far as its rail allows now (internal: to the end)."""
        rail = self.rails.rail_for(cmd.type)
        now = self.clock()
        order, created = new_order(
            PaymentOrder(
                id=cmd.order_id, client_id=cmd.client_id, customer_id=cmd.customer_id,
                type=cmd.type, state=OrderState.CREATED, asset=cmd.asset, amount=cmd.amount,
                source_account=cmd.source_account,
                destination_account=cmd.destination_account, reference=cmd.reference,
                created_at=now, updated_at=now, metadata=dict(cmd.metadata),
            )
        )  # fmt: skip
        rail.validate(order)
        events = [created]
        order = self._move(order, OrderState.SCREENING, "screening started", events)
        decision = self.compliance.decide(
            ScreeningRequest(order.id, order.client_id, order.customer_id, order.type.value,
                             order.asset, order.amount)
        )  # fmt: skip
        reason = "; ".join(decision.reasons) or decision.verdict.value
        target = {
            Verdict.ALLOW: OrderState.APPROVED,
            Verdict.REVIEW: OrderState.IN_REVIEW,
            Verdict.BLOCK: OrderState.REJECTED,
        }[decision.verdict]
        order = self._move(order, target, reason, events)
        self._save(order, events, previous_version=0)
        if order.state is OrderState.APPROVED:
            order = self._execute(order)
        return order

    def cancel(self, order_id: str, tenant_id: str | None, *, actor: str) -> PaymentOrder:
        """Cancel an order the rail has not accepted yet, releasing any held funds."""
        order = self.get(order_id, tenant_id)
        check_cancellable(order)
        if order.state is OrderState.APPROVED:
            self.rails.rail_for(order.type).release(order)
        events: list[OrderTransitioned] = []
        moved = self._move(order, OrderState.CANCELLED, f"cancelled by {actor}", events)
        try:
            self._save(moved, events, previous_version=order.version)
        except StaleOrder as exc:  # the pipeline moved it on meanwhile (e.g. to processing)
            raise OrderNotCancellable(
                "the order changed state while it was being cancelled", order_id=order.id
            ) from exc
        return moved

    def get(self, order_id: str, tenant_id: str | None) -> PaymentOrder:
        with self._reader() as conn:
            found = OrderStore(conn).get(order_id, tenant_id)
        if found is None:
            raise UnknownOrder("no such payment order", order_id=order_id)
        return found

    def orders(self, tenant_id: str | None, after: str | None, limit: int) -> list[PaymentOrder]:
        with self._reader() as conn:
            return OrderStore(conn).page(tenant_id, after, limit)

    def counts_by_state(self) -> dict[str, int]:
        """How many orders are in each state (for metrics)."""
        with self._reader() as conn:
            return OrderStore(conn).count_by_state()

    def history(self, order_id: str) -> list[tuple[str | None, str, str]]:
        with self._reader() as conn:
            return OrderStore(conn).transitions(order_id)

    def _execute(self, order: PaymentOrder) -> PaymentOrder:
        rail = self.rails.rail_for(order.type)
        events: list[OrderTransitioned] = []
        try:
            rail.reserve(order)
        except LedgerRejection as exc:
            failed = self._move(order, OrderState.FAILED, exc.message, events)
            self._save(failed, events, previous_version=order.version)
            return failed
        processing = self._move(order, OrderState.PROCESSING, "submitted to the rail", events)
        outcome = rail.submit(processing)
        if outcome.completed:
            final = self._move(processing, OrderState.COMPLETED, outcome.reason, events)
        elif outcome.failed:
            final = self._move(processing, OrderState.FAILED, outcome.reason, events)
        else:
            final = processing  # the rail answers later (bank, chain); a worker follows it up
        self._save(final, events, previous_version=order.version)
        return final

    def _move(
        self, order: PaymentOrder, to: OrderState, reason: str, events: list[OrderTransitioned]
    ) -> PaymentOrder:
        moved, event = transition(order, to, reason, self.clock())
        events.append(event)
        return moved

    def _save(
        self, order: PaymentOrder, events: Sequence[OrderTransitioned], *, previous_version: int
    ) -> None:
        actor = f"client:{order.client_id}"
        with UnitOfWork(self.engine, actor=actor, correlation_id=order.id, clock=self.clock) as uow:
            OrderStore(uow.connection).save(order, events, previous_version=previous_version)
            uow.publish(events)
            for event in events:
                uow.audit(
                    "pipeline.order_transitioned",
                    f"payment_order:{order.id}",
                    from_state=event.from_state.value if event.from_state else None,
                    to_state=event.to_state.value,
                    reason=event.reason,
                )
            uow.commit()

    def _reader(self) -> Connection:
        return self.engine.connect().execution_options(**READ_ONLY)
