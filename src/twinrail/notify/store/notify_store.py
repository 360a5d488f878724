"""Endpoint, delivery and attempt rows, mapped to domain values; never commits."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from twinrail.notify.domain.model import (
    Attempt,
    Delivery,
    DeliveryState,
    Endpoint,
    EndpointStatus,
)
from twinrail.notify.store.tables import attempts, deliveries, endpoints

__all__ = ["NotifyStore", "new_id", "SealedSecrets"]


def new_id(prefix: str) -> str:
    """A fresh, time-ordered, unguessable id such as `whe_0187f2...`."""
    return f"{prefix}_{time.time_ns() // 1000:014x}{secrets.token_hex(9)}"


SealedSecrets = tuple[str, str | None, dt.datetime | None]  # current, previous, previous expiry


def _endpoint(row: RowMapping) -> Endpoint:
    return Endpoint(
        id=row["id"], client_id=row["client_id"], url=row["url"],
        event_types=tuple(row["event_types"]), description=row["description"],
        status=EndpointStatus(row["status"]), created_at=row["created_at"],
        updated_at=row["updated_at"], secret_rotated_at=row["secret_rotated_at"],
        previous_secret_expires_at=row["previous_secret_expires_at"],
    )  # fmt: skip


def _delivery(row: RowMapping) -> Delivery:
    return Delivery(
        id=row["id"], endpoint_id=row["endpoint_id"], client_id=row["client_id"],
        webhook_id=row["webhook_id"], event_type=row["event_type"], payload=dict(row["payload"]),
        state=DeliveryState(row["state"]), attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"], created_at=row["created_at"],
        last_attempt_at=row["last_attempt_at"], last_status_code=row["last_status_code"],
        last_error=row["last_error"], replay_of=row["replay_of"],
    )  # fmt: skip


def _attempt(row: RowMapping) -> Attempt:
    return Attempt(
        delivery_id=row["delivery_id"], endpoint_id=row["endpoint_id"], number=row["number"],
        attempted_at=row["attempted_at"], status_code=row["status_code"],
        latency_ms=row["latency_ms"], error=row["error"],
    )  # fmt: skip


class NotifyStore:
    """The notify tables on one connection; the caller owns the transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # endpoints

    def add_endpoint(self, endpoint: Endpoint, sealed_secret: str) -> None:
        self.conn.execute(
            insert(endpoints).values(
                id=endpoint.id, client_id=endpoint.client_id, url=endpoint.url,
                event_types=list(endpoint.event_types), description=endpoint.description,
                status=endpoint.status.value, secret=sealed_secret, previous_secret=None,
                previous_secret_expires_at=None, secret_rotated_at=None,
                created_at=endpoint.created_at, updated_at=endpoint.updated_at,
            )
        )  # fmt: skip

    def endpoint(self, endpoint_id: str, tenant_id: str | None) -> Endpoint | None:
        query = select(endpoints).where(endpoints.c.id == endpoint_id)
        if tenant_id is not None:
            query = query.where(endpoints.c.client_id == tenant_id)
        row = self.conn.execute(query).mappings().first()
        return _endpoint(row) if row else None

    def endpoints_page(
        self, tenant_id: str | None, after: str | None, limit: int
    ) -> list[Endpoint]:
        query = select(endpoints).order_by(endpoints.c.id).limit(limit)
        if tenant_id is not None:
            query = query.where(endpoints.c.client_id == tenant_id)
        if after is not None:
            query = query.where(endpoints.c.id > after)
        return [_endpoint(r) for r in self.conn.execute(query).mappings()]

    def endpoints_of_client(self, client_id: str) -> list[Endpoint]:
        query = select(endpoints).where(endpoints.c.client_id == client_id)
        return [_endpoint(r) for r in self.conn.execute(query.order_by(endpoints.c.id)).mappings()]

    def update_endpoint(self, endpoint_id: str, **values: Any) -> None:
        self.conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id).values(**values))

    def sealed_secrets(self, endpoint_id: str) -> SealedSecrets:
        row = self.conn.execute(
            select(
                endpoints.c.secret,
                endpoints.c.previous_secret,
                endpoints.c.previous_secret_expires_at,
            ).where(endpoints.c.id == endpoint_id)
        ).one()
        return row[0], row[1], row[2]

    # deliveries

    def add_deliveries(self, batch: Sequence[Delivery]) -> None:
        if not batch:
            return
        self.conn.execute(
            insert(deliveries),
            [
                {
                    "id": d.id,
                    "endpoint_id": d.endpoint_id,
                    "client_id": d.client_id,
                    "webhook_id": d.webhook_id,
                    "event_type": d.event_type,
                    "payload": d.payload,
                    "state": d.state.value,
                    "attempts": d.attempts,
                    "next_attempt_at": d.next_attempt_at,
                    "claimed_until": None,
                    "created_at": d.created_at,
                    "replay_of": d.replay_of,
                }  # fmt: skip
                for d in batch
            ],
        )

    def delivery(self, delivery_id: str) -> Delivery | None:
        query = select(deliveries).where(deliveries.c.id == delivery_id)
        row = self.conn.execute(query).mappings().first()
        return _delivery(row) if row else None

    def deliveries_page(
        self, endpoint_id: str, after: str | None, limit: int, state: DeliveryState | None = None
    ) -> list[Delivery]:
        query = (
            select(deliveries)
            .where(deliveries.c.endpoint_id == endpoint_id)
            .order_by(deliveries.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(deliveries.c.id > after)
        if state is not None:
            query = query.where(deliveries.c.state == state.value)
        return [_delivery(r) for r in self.conn.execute(query).mappings()]

    def originals_between(
        self, endpoint_id: str, since: dt.datetime, until: dt.datetime, limit: int
    ) -> list[Delivery]:
        """Deliveries created in [since, until) that are not themselves replays."""
        query = (
            select(deliveries)
            .where(
                deliveries.c.endpoint_id == endpoint_id,
                deliveries.c.created_at >= since,
                deliveries.c.created_at < until,
                deliveries.c.replay_of.is_(None),
            )
            .order_by(deliveries.c.id)
            .limit(limit)
        )
        return [_delivery(r) for r in self.conn.execute(query).mappings()]

    def due_ids(self, now: dt.datetime, limit: int, per_endpoint: int) -> list[tuple[str, str]]:
        """(delivery id, endpoint id) of unclaimed deliveries due by `now`, at most
        `per_endpoint` of each endpoint, so that one endpoint's backlog cannot fill the batch."""
        rank = (
            func.row_number()
            .over(
                partition_by=deliveries.c.endpoint_id,
                order_by=(deliveries.c.next_attempt_at, deliveries.c.id),
            )
            .label("rank")
        )
        due = (
            select(deliveries.c.id, deliveries.c.endpoint_id, deliveries.c.next_attempt_at, rank)
            .where(
                deliveries.c.state == DeliveryState.PENDING.value,
                deliveries.c.next_attempt_at <= now,
                or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
            )
            .subquery()
        )
        query = (
            select(due.c.id, due.c.endpoint_id)
            .where(due.c.rank <= per_endpoint)
            .order_by(due.c.next_attempt_at, due.c.id)
            .limit(limit)
        )
        return [(r[0], r[1]) for r in self.conn.execute(query)]

    def claim(self, delivery_id: str, now: dt.datetime, until: dt.datetime) -> bool:
        """Take a due delivery for one attempt until `until`; False if another sender has it."""
        result = self.conn.execute(
            update(deliveries)
            .where(
                deliveries.c.id == delivery_id,
                deliveries.c.state == DeliveryState.PENDING.value,
                or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
            )
            .values(claimed_until=until)
        )
        return result.rowcount == 1

    def record_attempt(
        self, attempt: Attempt, state: DeliveryState, next_attempt_at: dt.datetime | None
    ) -> None:
        self.conn.execute(
            insert(attempts).values(
                delivery_id=attempt.delivery_id, endpoint_id=attempt.endpoint_id,
                number=attempt.number, attempted_at=attempt.attempted_at,
                status_code=attempt.status_code, latency_ms=attempt.latency_ms,
                error=attempt.error[:500] if attempt.error else None,
            )
        )  # fmt: skip
        self.conn.execute(
            update(deliveries)
            .where(deliveries.c.id == attempt.delivery_id)
            .values(
                state=state.value, attempts=attempt.number, next_attempt_at=next_attempt_at,
                claimed_until=None, last_attempt_at=attempt.attempted_at,
                last_status_code=attempt.status_code,
                last_error=attempt.error[:500] if attempt.error else None,
            )
        )  # fmt: skip

    def kill_pending(self, endpoint_id: str, reason: str) -> None:
        """Dead-letter every pending delivery of an endpoint (it was disabled)."""
        self.conn.execute(
            update(deliveries)
            .where(
                and_(
                    deliveries.c.endpoint_id == endpoint_id,
                    deliveries.c.state == DeliveryState.PENDING.value,
                )
            )
            .values(state=DeliveryState.DEAD.value, next_attempt_at=None, last_error=reason)
        )

    def attempts_of(self, delivery_ids: Sequence[str]) -> dict[str, list[Attempt]]:
        found: dict[str, list[Attempt]] = {d: [] for d in delivery_ids}
        if not delivery_ids:
            return found
        query = (
            select(attempts)
            .where(attempts.c.delivery_id.in_(list(delivery_ids)))
            .order_by(attempts.c.id)
        )
        for row in self.conn.execute(query).mappings():
            found[row["delivery_id"]].append(_attempt(row))
        return found

    def delivery_health(self) -> dict[str, int]:
        """Deliveries by state and, as `failed_attempts`, attempts that failed (for metrics)."""
        by_state = self.conn.execute(
            select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
        ).all()
        failed = self.conn.execute(
            select(func.count()).select_from(attempts).where(attempts.c.error.is_not(None))
        ).scalar_one()
        found = {state.value: 0 for state in DeliveryState}
        found.update({str(state): int(count) for state, count in by_state})
        found["failed_attempts"] = int(failed)
        return found
