"""Webhook endpoints of a client: register, list, change, disable, rotate, log and replay.

Every call takes the caller's `tenant_id` (None for platform staff): another tenant's endpoint
is an UnknownEndpoint, exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Engine

from twinrail.notify.domain.errors import (
    EndpointDisabled,
    InvalidReplay,
    UnknownDelivery,
    UnknownEndpoint,
)
from twinrail.notify.domain.model import (
    Attempt,
    Delivery,
    DeliveryState,
    Endpoint,
    EndpointStatus,
    check_event_types,
    check_url,
    new_webhook_secret,
)
from twinrail.notify.service.ports import SecretSealer
from twinrail.notify.store.notify_store import NotifyStore, new_id
from twinrail.platform.clock import Clock, utc_now

__all__ = ["WebhookEndpointService", "LoggedDelivery", "MAX_REPLAY"]

MAX_REPLAY = 1000  # deliveries one range replay may create; ask again for the rest


@dataclass(frozen=True, slots=True)
class LoggedDelivery:
    """A delivery with every attempt made so far."""

    delivery: Delivery
    attempts: tuple[Attempt, ...]


class WebhookEndpointService:
    """Endpoints and their delivery logs; secrets are sealed by `box` before they are stored."""

    def __init__(
        self,
        engine: Engine,
        box: SecretSealer,
        *,
        rotation_grace: dt.timedelta = dt.timedelta(hours=24),
        clock: Clock = utc_now,
    ) -> None:
        self.engine, self.box, self.rotation_grace, self.clock = engine, box, rotation_grace, clock

    def create(
        self, client_id: str, url: str, event_types: Sequence[str], description: str = ""
    ) -> tuple[Endpoint, str]:
        """Register an endpoint for `client_id`; returns it and its secret (shown only now)."""
        now = self.clock()
        endpoint = Endpoint(
            id=new_id("whe"), client_id=client_id, url=check_url(url),
            event_types=check_event_types(event_types), description=description,
            status=EndpointStatus.ENABLED, created_at=now, updated_at=now,
        )  # fmt: skip
        secret = new_webhook_secret()
        with self.engine.begin() as conn:
            NotifyStore(conn).add_endpoint(endpoint, self.box.seal(endpoint.id, secret))
        return endpoint, secret

    def endpoints(self, tenant_id: str | None, after: str | None, limit: int) -> list[Endpoint]:
        """Endpoints visible to the caller, by id."""
        with self.engine.connect() as conn:
            return NotifyStore(conn).endpoints_page(tenant_id, after, limit)

    def get(self, endpoint_id: str, tenant_id: str | None) -> Endpoint:
        """One endpoint, or UnknownEndpoint (also for another tenant's)."""
        with self.engine.connect() as conn:
            return _found(NotifyStore(conn), endpoint_id, tenant_id)

    def update(
        self,
        endpoint_id: str,
        tenant_id: str | None,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
        description: str | None = None,
    ) -> Endpoint:
        """Change the URL, event types or description of an enabled endpoint."""
        with self.engine.begin() as conn:
            store = NotifyStore(conn)
            endpoint = _enabled(_found(store, endpoint_id, tenant_id))
            changed = replace(
                endpoint,
                url=check_url(url) if url is not None else endpoint.url,
                event_types=check_event_types(event_types)
                if event_types is not None
                else endpoint.event_types,
                description=description if description is not None else endpoint.description,
                updated_at=self.clock(),
            )
            store.update_endpoint(
                endpoint_id, url=changed.url, event_types=list(changed.event_types),
                description=changed.description, updated_at=changed.updated_at,
            )  # fmt: skip
        return changed

    def disable(self, endpoint_id: str, tenant_id: str | None) -> Endpoint:
        """Stop sending to an endpoint; its pending deliveries are dead-lettered (replayable)."""
        with self.engine.begin() as conn:
            store = NotifyStore(conn)
            endpoint = _found(store, endpoint_id, tenant_id)
            if endpoint.status is EndpointStatus.DISABLED:
                return endpoint
            now = self.clock()
            store.update_endpoint(endpoint_id, status=EndpointStatus.DISABLED.value, updated_at=now)
            store.kill_pending(endpoint_id, "endpoint disabled")
        return replace(endpoint, status=EndpointStatus.DISABLED, updated_at=now)

    def enable(self, endpoint_id: str, tenant_id: str | None) -> Endpoint:
        """Send to a disabled endpoint again (from new events on; replay the gap if needed)."""
        with self.engine.begin() as conn:
            store = NotifyStore(conn)
            endpoint = _found(store, endpoint_id, tenant_id)
            now = self.clock()
            store.update_endpoint(endpoint_id, status=EndpointStatus.ENABLED.value, updated_at=now)
        return replace(endpoint, status=EndpointStatus.ENABLED, updated_at=now)

    def rotate_secret(
        self, endpoint_id: str, tenant_id: str | None, grace: dt.timedelta | None = None
    ) -> tuple[Endpoint, str]:
        """A new secret (returned only now); the current one still signs for `grace`."""
        grace = self.rotation_grace if grace is None else grace
        secret = new_webhook_secret()
        with self.engine.begin() as conn:
            store = NotifyStore(conn)
            endpoint = _enabled(_found(store, endpoint_id, tenant_id))
            current, _, _ = store.sealed_secrets(endpoint_id)
            now = self.clock()
            expires = now + grace if grace > dt.timedelta(0) else None
            store.update_endpoint(
                endpoint_id, secret=self.box.seal(endpoint_id, secret),
                previous_secret=current if expires else None,
                previous_secret_expires_at=expires, secret_rotated_at=now, updated_at=now,
            )  # fmt: skip
        rotated = replace(
            endpoint, secret_rotated_at=now, previous_secret_expires_at=expires, updated_at=now
        )
        return rotated, secret

    def signing_secrets(self, endpoint_id: str, at: dt.datetime) -> list[str]:
        """The secrets that sign at `at`: the current one, and the previous within its grace."""
        with self.engine.connect() as conn:
            current, previous, expires = NotifyStore(conn).sealed_secrets(endpoint_id)
        opened = [self.box.open(endpoint_id, current)]
        if previous and expires and at < expires:
            opened.append(self.box.open(endpoint_id, previous))
        return opened

    def deliveries(
        self,
        endpoint_id: str,
        tenant_id: str | None,
        after: str | None,
        limit: int,
        state: DeliveryState | None = None,
    ) -> list[LoggedDelivery]:
        """The endpoint's delivery log, oldest first, with every attempt."""
        with self.engine.connect() as conn:
            store = NotifyStore(conn)
            _found(store, endpoint_id, tenant_id)
            found = store.deliveries_page(endpoint_id, after, limit, state)
            tries = store.attempts_of([d.id for d in found])
        return [LoggedDelivery(d, tuple(tries[d.id])) for d in found]

    def delivery(self, endpoint_id: str, tenant_id: str | None, delivery_id: str) -> LoggedDelivery:
        """One delivery of the endpoint with its attempts, or UnknownDelivery."""
        with self.engine.connect() as conn:
            store = NotifyStore(conn)
            _found(store, endpoint_id, tenant_id)
            found = store.delivery(delivery_id)
            if found is None or found.endpoint_id != endpoint_id:
                raise UnknownDelivery("no such delivery on this endpoint", delivery_id=delivery_id)
            return LoggedDelivery(found, tuple(store.attempts_of([found.id])[found.id]))

    def replay(
        self,
        endpoint_id: str,
        tenant_id: str | None,
        *,
        delivery_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[Delivery]:
        """Send again one delivery, or every original delivery created in [since, until)."""
        if (delivery_id is None) == (since is None):
            raise InvalidReplay("give either delivery_id or since (with an optional until)")
        now = self.clock()
        until = until or now
        if since is not None and since >= until:
            raise InvalidReplay("since must be before until")
        with self.engine.begin() as conn:
            store = NotifyStore(conn)
            _enabled(_found(store, endpoint_id, tenant_id))
            if delivery_id is not None:
                original = store.delivery(delivery_id)
                if original is None or original.endpoint_id != endpoint_id:
                    raise UnknownDelivery(
                        "no such delivery on this endpoint", delivery_id=delivery_id
                    )
                originals = [original]
            else:
                assert since is not None
                originals = store.originals_between(endpoint_id, since, until, MAX_REPLAY)
            copies = [_replay_of(d, now) for d in originals]
            store.add_deliveries(copies)
        return copies

    def delivery_health(self) -> dict[str, int]:
        """Deliveries by state and failed attempts in total, over every endpoint (for metrics)."""
        with self.engine.connect() as conn:
            return NotifyStore(conn).delivery_health()


def _replay_of(original: Delivery, now: dt.datetime) -> Delivery:
    # The same webhook-id: it is the same message, so a receiver that de-duplicates may.
    return replace(
        original, id=new_id("whd"), state=DeliveryState.PENDING, attempts=0,
        next_attempt_at=now, created_at=now, last_attempt_at=None, last_status_code=None,
        last_error=None, replay_of=original.replay_of or original.id,
    )  # fmt: skip


def _found(store: NotifyStore, endpoint_id: str, tenant_id: str | None) -> Endpoint:
    endpoint = store.endpoint(endpoint_id, tenant_id)
    if endpoint is None:
        raise UnknownEndpoint("no such webhook endpoint", endpoint_id=endpoint_id)
    return endpoint


def _enabled(endpoint: Endpoint) -> Endpoint:
    if endpoint.status is not EndpointStatus.ENABLED:
        raise EndpointDisabled("the endpoint is disabled", endpoint_id=endpoint.id)
    return endpoint
