"""Webhook endpoints, deliveries and their attempts; which events reach whom; when to retry.

An event reaches a client only if it names that client: payment-order events carry their
`client_id`; events that belong to no client (the ledger's own) map to nothing and go nowhere.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from twinrail.notify.domain.errors import InvalidEndpoint

__all__ = [
    "EVENT_TYPES",
    "ALL_EVENTS",
    "EndpointStatus",
    "DeliveryState",
    "Endpoint",
    "Delivery",
    "Attempt",
    "WebhookEvent",
    "RetryPolicy",
    "event_for",
    "check_url",
    "check_event_types",
    "endpoint_wants",
    "new_webhook_secret",
]

_ORDER_STATES = (
    "created", "screening", "in_review", "approved", "processing", "awaiting_sca",
    "completed", "rejected", "failed", "cancelled", "returned",
)  # fmt: skip
# The catalogue a client subscribes from; `*` subscribes to every one, now and later.
EVENT_TYPES: frozenset[str] = frozenset(f"payment_order.{state}" for state in _ORDER_STATES)
ALL_EVENTS = "*"


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SUCCEEDED = "succeeded"  # the endpoint answered 2xx
    DEAD = "dead"  # every retry failed (dead-lettered), or its endpoint was disabled


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A client's webhook receiver; its secrets live only in the store, never here."""

    id: str
    client_id: str
    url: str
    event_types: tuple[str, ...]
    description: str
    status: EndpointStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    secret_rotated_at: dt.datetime | None = None
    previous_secret_expires_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event on its way to one endpoint; `webhook_id` stays the same across its retries."""

    id: str
    endpoint_id: str
    client_id: str
    webhook_id: str
    event_type: str
    payload: dict[str, Any]
    state: DeliveryState
    attempts: int
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    replay_of: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP try of a delivery: the status (None if no answer), latency and error."""

    delivery_id: str
    endpoint_id: str
    number: int
    attempted_at: dt.datetime
    status_code: int | None
    latency_ms: int
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """What a client is told: its id, the owning client, the type and the JSON body."""

    client_id: str
    event_type: str
    body: dict[str, Any]


def event_for(
    event_id: str, topic: str, payload: Mapping[str, Any], occurred_at: dt.datetime
) -> WebhookEvent | None:
    """The webhook an outbox event becomes, or None when it belongs to no client."""
    if topic != "pipeline.order_transitioned":
        return None
    client_id = payload.get("client_id")
    event_type = f"payment_order.{payload.get('to')}"
    if not client_id or event_type not in EVENT_TYPES:
        return None
    body = {
        "type": event_type,
        "timestamp": occurred_at.isoformat(),
        "data": {
            "event_id": event_id,
            "payment_order_id": payload.get("order_id"),
            "from_state": payload.get("from"),
            "state": payload.get("to"),
            "reason": payload.get("reason"),
        },
    }
    return WebhookEvent(str(client_id), event_type, body)


def check_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL without credentials, else InvalidEndpoint."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint("the URL must be absolute http or https", field="url")
    if parts.username or parts.password:
        raise InvalidEndpoint("the URL must not carry credentials", field="url")
    return url


def check_event_types(event_types: Iterable[str]) -> tuple[str, ...]:
    """The event types, sorted and de-duplicated, each from the catalogue or `*`."""
    chosen = tuple(sorted(set(event_types)))
    if not chosen:
        raise InvalidEndpoint("choose at least one event type", field="event_types")
    unknown = [t for t in chosen if t != ALL_EVENTS and t not in EVENT_TYPES]
    if unknown:
        raise InvalidEndpoint(
            f"unknown event types: {', '.join(unknown)}", field="event_types", unknown=unknown
        )
    return chosen


def endpoint_wants(endpoint: Endpoint, event_type: str) -> bool:
    """Whether an enabled endpoint subscribed to `event_type`."""
    if endpoint.status is not EndpointStatus.ENABLED:
        return False
    return ALL_EVENTS in endpoint.event_types or event_type in endpoint.event_types


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delays before each retry (seconds), each stretched or shrunk by up to `jitter` of itself.

    The default spreads eight attempts over about 27 hours; after the last, the delivery is dead.
    """

    delays: Sequence[float] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    jitter: float = 0.2

    def next_delay(self, attempts_made: int, rng: random.Random) -> float | None:
        """Seconds until the next attempt after `attempts_made` failures; None: dead-letter."""
        if attempts_made > len(self.delays):
            return None
        base = float(self.delays[attempts_made - 1])
        return max(0.0, base * (1 + rng.uniform(-self.jitter, self.jitter)))


def new_webhook_secret() -> str:
    """A fresh Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
