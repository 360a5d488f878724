"""Payment orders: screen, hold, submit, complete — each move saved with its event and audit.

The order is saved (created → screening → approved, or rejected / in_review) before any money
moves, so the intent is durable; the rail then reserves, and the order records the outcome.
Four commits for an internal transfer: order, hold (shared through group commit), post, order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

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
from twinrail.platform.telemetry import tracer
from twinrail.platform.uow import StagingUnitOfWork

__all__ = ["PaymentOrderService", "CreatePaymentOrder", "screening_request"]

_tracer = tracer(__name__)


def screening_request(order: PaymentOrder) -> ScreeningRequest:
    """What compliance is asked about an order: the movement and where the money goes."""
    party = order.metadata.get("counterparty") or {}
    chain_id = party.get("chain_id")
    return ScreeningRequest(
        order.id, order.client_id, order.customer_id, order.type.value, order.asset,
        order.amount, counterparty_name=party.get("name"), counterparty_iban=party.get("iban"),
        counterparty_bic=party.get("bic"), counterparty_wallet=party.get("wallet_address"),
        counterparty_country=party.get("country"),
        chain_id=int(chain_id) if chain_id is not None else None,
        travel_rule=order.metadata.get("travel_rule"),
    )  # fmt: skip


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

    @_tracer.start_as_current_span("pipeline.create_order")
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
        decision = self.compliance.decide(screening_request(order))
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

    def resolve_review(
        self, order_id: str, *, allow: bool, reason: str, actor: str
    ) -> PaymentOrder:
        """Carry out compliance's decision on an order in review: approve and run it, or reject.

        Safe to repeat: an order no longer in review is returned as it is.
        """
        order = self.get(order_id, None)
        if order.state is not OrderState.IN_REVIEW:
            return order
        events: list[OrderTransitioned] = []
        target = OrderState.APPROVED if allow else OrderState.REJECTED
        moved = self._move(order, target, reason, events)
        try:
            self._save(moved, events, previous_version=order.version, actor=actor)
        except StaleOrder:  # cancelled or decided meanwhile
            return self.get(order_id, None)
        return self._execute(moved) if moved.state is OrderState.APPROVED else moved

    def follow_up(self, page: int = 100) -> int:
        """Ask the rails about every order they still carry; record those that finished.

        Goes through all of them, a page at a time, so orders a rail keeps for long never
        crowd out the ones behind them. Returns how many orders moved.
        """
        moved = 0
        for order in self._all_in((OrderState.PROCESSING, OrderState.AWAITING_SCA), page):
            rail = self.rails.rail_for(order.type)
            outcome = rail.status(order)
            if not (outcome.completed or outcome.failed):
                continue
            if outcome.failed:
                rail.release(order)
            target = OrderState.COMPLETED if outcome.completed else OrderState.FAILED
            events: list[OrderTransitioned] = []
            final = self._move(order, target, outcome.reason or target.value, events)
            try:
                self._save(final, events, previous_version=order.version)
                moved += 1
            except StaleOrder:
                continue  # another worker recorded it first
        return moved

    def resume(self, *, idle_for: dt.timedelta, page: int = 100) -> int:
        """Carry on approved orders that a crash left behind (untouched for `idle_for`).

        Reserving and submitting are keyed by the order id, so repeating them is safe.
        """
        stuck = list(
            self._all_in((OrderState.APPROVED,), page, moved_before=self.clock() - idle_for)
        )
        for order in stuck:
            self._execute(order)
        return len(stuck)

    def _all_in(
        self, states: Sequence[OrderState], page: int, *, moved_before: dt.datetime | None = None
    ) -> Iterator[PaymentOrder]:
        after: tuple[dt.datetime, str] | None = None
        while True:
            with self._reader() as conn:
                found = OrderStore(conn).in_states(
                    states, page, after=after, moved_before=moved_before
                )
            yield from found
            if len(found) < page:
                return
            after = (found[-1].updated_at, found[-1].id)

    def _execute(self, order: PaymentOrder) -> PaymentOrder:
        """Reserve, hand to the rail and record how far it got; another writer may win."""
        try:
            return self._run_rail(order)
        except StaleOrder:
            return self.get(order.id, None)

    def _run_rail(self, order: PaymentOrder) -> PaymentOrder:
        rail = self.rails.rail_for(order.type)
        events: list[OrderTransitioned] = []
        try:
            rail.reserve(order)
        except LedgerRejection as exc:
            failed = self._move(order, OrderState.FAILED, exc.message, events)
            self._save(failed, events, previous_version=order.version)
            return failed
        processing = self._move(order, OrderState.PROCESSING, "submitted to the rail", events)
        version = order.version
        if not rail.completes_on_submit:
            # Record the hand-over first: from here on the order cannot be cancelled, so a
            # rail that works in the background never carries an order the client cancelled.
            self._save(processing, events, previous_version=version)
            events, version = [], processing.version
        outcome = rail.submit(processing)
        if outcome.completed:
            final = self._move(processing, OrderState.COMPLETED, outcome.reason, events)
        elif outcome.failed:
            final = self._move(processing, OrderState.FAILED, outcome.reason, events)
        else:
            final = processing  # the rail answers later (bank, chain): see follow_up
        if events:
            self._save(final, events, previous_version=version)
        return final

    def _move(
        self, order: PaymentOrder, to: OrderState, reason: str, events: list[OrderTransitioned]
    ) -> PaymentOrder:
        moved, event = transition(order, to, reason, self.clock())
        events.append(event)
        return moved

    def _save(
        self,
        order: PaymentOrder,
        events: Sequence[OrderTransitioned],
        *,
        previous_version: int,
        actor: str | None = None,
    ) -> None:
        """Save the order, its transitions, events and audit in one statement and commit.

        Raises StaleOrder when another writer moved the order on from `previous_version`.
        """
        actor = actor or f"client:{order.client_id}"
        with StagingUnitOfWork(
            self.engine, actor=actor, correlation_id=order.id, clock=self.clock
        ) as uow:
            uow.stage(
                OrderStore(uow.connection).stage(order, events, previous_version=previous_version)
            )
            uow.publish(events)
            for event in events:
                uow.audit(
                    "pipeline.order_transitioned",
                    f"payment_order:{order.id}",
                    from_state=event.from_state.value if event.from_state else None,
                    to_state=event.to_state.value,
                    reason=event.reason,
                )
            try:
                uow.commit()
            except IntegrityError as exc:
                raise StaleOrder(order.id) from exc

    def _reader(self) -> Connection:
        return self.engine.connect().execution_options(**READ_ONLY)
