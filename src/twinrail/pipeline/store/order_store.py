"""Payment order rows, mapped to `PaymentOrder`; saves check the version they started from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, func, select, tuple_
from sqlalchemy.engine import RowMapping

from twinrail.pipeline.domain.model import OrderState, OrderTransitioned, OrderType, PaymentOrder
from twinrail.pipeline.store.tables import order_transitions, payment_orders
from twinrail.platform.bulk import StagedWrite

__all__ = ["OrderStore", "StaleOrder"]


class StaleOrder(Exception):
    """Another writer moved the order first (its version changed under us)."""


def _order(row: RowMapping) -> PaymentOrder:
    return PaymentOrder(
        id=row["id"], client_id=row["client_id"], customer_id=row["customer_id"],
        type=OrderType(row["type"]), state=OrderState(row["state"]), asset=row["asset"],
        amount=row["amount"], source_account=row["source_account"],
        destination_account=row["destination_account"], reference=row["reference"],
        created_at=row["created_at"], updated_at=row["updated_at"], reason=row["reason"],
        metadata=dict(row["metadata"]), version=row["version"],
    )  # fmt: skip


def _values(order: PaymentOrder) -> dict[str, object]:
    return {
        "id": order.id, "client_id": order.client_id, "customer_id": order.customer_id,
        "type": order.type.value, "state": order.state.value, "asset": order.asset,
        "amount": order.amount, "source_account": order.source_account,
        "destination_account": order.destination_account, "reference": order.reference,
        "reason": order.reason[:500], "metadata": order.metadata, "created_at": order.created_at,
        "updated_at": order.updated_at, "version": order.version,
    }  # fmt: skip


class OrderStore:
    """Payment orders on one connection; never commits."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, order_id: str, tenant_id: str | None) -> PaymentOrder | None:
        query = select(payment_orders).where(payment_orders.c.id == order_id)
        if tenant_id is not None:
            query = query.where(payment_orders.c.client_id == tenant_id)
        row = self.conn.execute(query).mappings().first()
        return _order(row) if row else None

    def page(self, tenant_id: str | None, after: str | None, limit: int) -> list[PaymentOrder]:
        query = select(payment_orders).order_by(payment_orders.c.id).limit(limit)
        if tenant_id is not None:
            query = query.where(payment_orders.c.client_id == tenant_id)
        if after is not None:
            query = query.where(payment_orders.c.id > after)
        return [_order(r) for r in self.conn.execute(query).mappings()]

    def stage(
        self, order: PaymentOrder, events: Sequence[OrderTransitioned], *, previous_version: int
    ) -> list[StagedWrite]:
        """The writes that insert (previous_version 0) or update the order with its transitions.

        They are staged, to travel in the unit of work's one statement. A writer that started
        from a stale version fails at commit: the transition it appends has a version another
        writer already took (unique per order), or the order it inserts exists already.
        """
        if not events or events[0].version != previous_version + 1:
            raise ValueError("a save appends the transitions made since previous_version")
        transitions = [
            {
                "order_id": e.order_id,
                "version": e.version,
                "from_state": e.from_state.value if e.from_state else None,
                "to_state": e.to_state.value,
                "reason": e.reason[:500],
                "at": e.at,
            }  # fmt: skip
            for e in events
        ]
        row = StagedWrite(payment_orders, [_values(order)], None if previous_version == 0 else "id")
        return [row, StagedWrite(order_transitions, transitions)]

    def in_states(
        self,
        states: Sequence[OrderState],
        limit: int,
        *,
        after: tuple[dt.datetime, str] | None = None,
        moved_before: dt.datetime | None = None,
    ) -> list[PaymentOrder]:
        """Orders in any of `states`, least recently moved first; a page starts `after` the
        (updated_at, id) of the previous page's last order."""
        o = payment_orders.c
        query = select(payment_orders).where(o.state.in_([s.value for s in states]))
        if after is not None:
            query = query.where(tuple_(o.updated_at, o.id) > tuple_(*after))
        if moved_before is not None:
            query = query.where(o.updated_at <= moved_before)
        query = query.order_by(o.updated_at, o.id).limit(limit)
        return [_order(r) for r in self.conn.execute(query).mappings()]

    def count_by_state(self) -> dict[str, int]:
        query = select(payment_orders.c.state, func.count()).group_by(payment_orders.c.state)
        return {state: int(count) for state, count in self.conn.execute(query)}

    def transitions(self, order_id: str) -> list[tuple[str | None, str, str]]:
        rows = self.conn.execute(
            select(order_transitions)
            .where(order_transitions.c.order_id == order_id)
            .order_by(order_transitions.c.version)
        ).mappings()
        return [(r["from_state"], r["to_state"], r["reason"]) for r in rows]
