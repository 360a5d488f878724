"""Webhook endpoints of the calling client: register, change, disable, rotate, log, replay.

Bodies are declared here rather than in `api/schemas.py` to keep the notify edge in one file.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from twinrail.api.deps import CurrentPrincipal, PageCursor, PageLimit, needs
from twinrail.api.domain.cursor import encode_cursor
from twinrail.api.domain.roles import Permission
from twinrail.api.idempotent_route import IdempotentRoute
from twinrail.api.schemas import Page, Text
from twinrail.notify.domain.model import (
    ALL_EVENTS,
    EVENT_TYPES,
    DeliveryState,
    Endpoint,
    EndpointStatus,
)
from twinrail.notify.service.endpoints import LoggedDelivery, WebhookEndpointService

__all__ = [
    "router",
    "WebhookEndpointCreate",
    "WebhookEndpointUpdate",
    "WebhookEndpointPublic",
    "WebhookEndpointCreated",
    "WebhookEndpointPage",
    "SecretRotate",
    "WebhookSecretRotated",
    "AttemptPublic",
    "DeliveryPublic",
    "DeliveryPage",
    "ReplayCreate",
    "ReplayPublic",
]

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"], route_class=IdempotentRoute)

_TYPES = f"Event types from {sorted(EVENT_TYPES)}, or `{ALL_EVENTS}` for all."


def _service(request: Request) -> WebhookEndpointService:
    service: WebhookEndpointService = request.app.state.webhooks
    return service


Webhooks = Annotated[WebhookEndpointService, Depends(_service)]


class WebhookEndpointCreate(BaseModel):
    url: Text = Field(min_length=8, max_length=2000, description="Absolute http(s) URL.")
    event_types: list[Text] = Field(min_length=1, max_length=50, description=_TYPES)
    description: Text = Field(default="", max_length=500)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"url": "https://hooks.example.com/twinrail",
                 "event_types": ["payment_order.completed", "payment_order.failed"]}
            ]
        },
    )  # fmt: skip


class WebhookEndpointUpdate(BaseModel):
    url: Text | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[Text] | None = Field(
        default=None, min_length=1, max_length=50, description=_TYPES
    )
    description: Text | None = Field(default=None, max_length=500)

    model_config = ConfigDict(extra="forbid")


class WebhookEndpointPublic(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str
    status: EndpointStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    secret_rotated_at: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None = Field(
        description="Until then deliveries carry a signature with the previous secret too."
    )


class WebhookEndpointCreated(WebhookEndpointPublic):
    secret: str = Field(description="The signing secret (`whsec_...`); shown only once.")


class WebhookEndpointPage(Page):
    data: list[WebhookEndpointPublic]


class SecretRotate(BaseModel):
    grace_period_seconds: int | None = Field(
        default=None, ge=0, le=7 * 86400, description="How long the old secret still signs."
    )

    model_config = ConfigDict(extra="forbid")


class WebhookSecretRotated(BaseModel):
    endpoint: WebhookEndpointPublic
    secret: str = Field(description="The new signing secret; shown only once.")


class AttemptPublic(BaseModel):
    number: int
    attempted_at: dt.datetime
    status_code: int | None = Field(description="Null when the endpoint gave no answer.")
    latency_ms: int
    error: str | None


class DeliveryPublic(BaseModel):
    id: str
    webhook_id: str = Field(description="The `webhook-id` header; the same on every retry.")
    event_type: str
    state: DeliveryState
    attempts: list[AttemptPublic]
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    replay_of: str | None
    payload: dict[str, object]


class DeliveryPage(Page):
    data: list[DeliveryPublic]


class ReplayCreate(BaseModel):
    delivery_id: Text | None = Field(default=None, max_length=64)
    since: AwareDatetime | None = Field(default=None, description="Replay deliveries from here…")
    until: AwareDatetime | None = Field(default=None, description="…to here (default: now).")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"delivery_id": "whd_0187f2c4a1b2c3"},
                         {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"}]
        },
    )  # fmt: skip


class ReplayPublic(BaseModel):
    count: int
    deliveries: list[str] = Field(description="Ids of the new deliveries, queued now.")


def endpoint_public(endpoint: Endpoint) -> WebhookEndpointPublic:
    return WebhookEndpointPublic(
        id=endpoint.id, url=endpoint.url, event_types=list(endpoint.event_types),
        description=endpoint.description, status=endpoint.status,
        created_at=endpoint.created_at, updated_at=endpoint.updated_at,
        secret_rotated_at=endpoint.secret_rotated_at,
        previous_secret_expires_at=endpoint.previous_secret_expires_at,
    )  # fmt: skip


def delivery_public(logged: LoggedDelivery) -> DeliveryPublic:
    d = logged.delivery
    return DeliveryPublic(
        id=d.id, webhook_id=d.webhook_id, event_type=d.event_type, state=d.state,
        next_attempt_at=d.next_attempt_at, created_at=d.created_at, replay_of=d.replay_of,
        payload=d.payload,
        attempts=[
            AttemptPublic(number=a.number, attempted_at=a.attempted_at,
                          status_code=a.status_code, latency_ms=a.latency_ms, error=a.error)
            for a in logged.attempts
        ],
    )  # fmt: skip


@router.post(
    "",
    response_model=WebhookEndpointCreated,
    status_code=status.HTTP_201_CREATED,
    **needs(Permission.WEBHOOKS_WRITE),
)
def create_webhook_endpoint(
    body: WebhookEndpointCreate, principal: CurrentPrincipal, webhooks: Webhooks
) -> WebhookEndpointCreated:
    """Register an endpoint of the calling client; its secret is in this response only."""
    endpoint, secret = webhooks.create(
        principal.client_id, body.url, body.event_types, body.description
    )
    return WebhookEndpointCreated(**endpoint_public(endpoint).model_dump(), secret=secret)


@router.get("", response_model=WebhookEndpointPage, **needs(Permission.WEBHOOKS_READ))
def list_webhook_endpoints(
    principal: CurrentPrincipal, webhooks: Webhooks, cursor: PageCursor, limit: PageLimit = 50
) -> WebhookEndpointPage:
    """The caller's endpoints (every tenant's for staff), oldest first."""
    found = webhooks.endpoints(principal.tenant_id, cursor, limit + 1)
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].id) if len(found) > limit else None
    return WebhookEndpointPage(data=[endpoint_public(e) for e in page], next_cursor=next_cursor)


@router.get(
    "/{endpoint_id}", response_model=WebhookEndpointPublic, **needs(Permission.WEBHOOKS_READ)
)
def get_webhook_endpoint(
    endpoint_id: str, principal: CurrentPrincipal, webhooks: Webhooks
) -> WebhookEndpointPublic:
    """One endpoint; another tenant's answers 404."""
    return endpoint_public(webhooks.get(endpoint_id, principal.tenant_id))


@router.patch(
    "/{endpoint_id}", response_model=WebhookEndpointPublic, **needs(Permission.WEBHOOKS_WRITE)
)
def update_webhook_endpoint(
    endpoint_id: str, body: WebhookEndpointUpdate, principal: CurrentPrincipal, webhooks: Webhooks
) -> WebhookEndpointPublic:
    """Change the URL, the event types or the description of an enabled endpoint."""
    changed = webhooks.update(
        endpoint_id, principal.tenant_id, url=body.url, event_types=body.event_types,
        description=body.description,
    )  # fmt: skip
    return endpoint_public(changed)


@router.post(
    "/{endpoint_id}/disable",
    response_model=WebhookEndpointPublic,
    **needs(Permission.WEBHOOKS_WRITE),
)
def disable_webhook_endpoint(
    endpoint_id: str, principal: CurrentPrincipal, webhooks: Webhooks
) -> WebhookEndpointPublic:
    """Stop sending; pending deliveries are dead-lettered and can be replayed later."""
    return endpoint_public(webhooks.disable(endpoint_id, principal.tenant_id))


@router.post(
    "/{endpoint_id}/enable",
    response_model=WebhookEndpointPublic,
    **needs(Permission.WEBHOOKS_WRITE),
)
def enable_webhook_endpoint(
    endpoint_id: str, principal: CurrentPrincipal, webhooks: Webhooks
) -> WebhookEndpointPublic:
    """Send to a disabled endpoint again, from new events on."""
    return endpoint_public(webhooks.enable(endpoint_id, principal.tenant_id))


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=WebhookSecretRotated,
    **needs(Permission.WEBHOOKS_WRITE),
)
def rotate_webhook_secret(
    endpoint_id: str,
    principal: CurrentPrincipal,
    webhooks: Webhooks,
    body: SecretRotate | None = None,
) -> WebhookSecretRotated:
    """A new secret, shown only now; the old one still signs during the grace period."""
    seconds = body.grace_period_seconds if body else None
    grace = dt.timedelta(seconds=seconds) if seconds is not None else None
    endpoint, secret = webhooks.rotate_secret(endpoint_id, principal.tenant_id, grace)
    return WebhookSecretRotated(endpoint=endpoint_public(endpoint), secret=secret)


@router.get(
    "/{endpoint_id}/deliveries", response_model=DeliveryPage, **needs(Permission.WEBHOOKS_READ)
)
def list_deliveries(
    endpoint_id: str,
    principal: CurrentPrincipal,
    webhooks: Webhooks,
    cursor: PageCursor,
    limit: PageLimit = 50,
    state: Annotated[DeliveryState | None, Query(description="Only this state.")] = None,
) -> DeliveryPage:
    """The endpoint's delivery log with every attempt (status, latency, error), oldest first."""
    found = webhooks.deliveries(endpoint_id, principal.tenant_id, cursor, limit + 1, state)
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].delivery.id) if len(found) > limit else None
    return DeliveryPage(data=[delivery_public(d) for d in page], next_cursor=next_cursor)


@router.get(
    "/{endpoint_id}/deliveries/{delivery_id}",
    response_model=DeliveryPublic,
    **needs(Permission.WEBHOOKS_READ),
)
def get_delivery(
    endpoint_id: str, delivery_id: str, principal: CurrentPrincipal, webhooks: Webhooks
) -> DeliveryPublic:
    """One delivery of the endpoint with its attempts."""
    return delivery_public(webhooks.delivery(endpoint_id, principal.tenant_id, delivery_id))


@router.post(
    "/{endpoint_id}/replay",
    response_model=ReplayPublic,
    status_code=status.HTTP_202_ACCEPTED,
    **needs(Permission.WEBHOOKS_REPLAY),
)
def replay_deliveries(
    endpoint_id: str, body: ReplayCreate, principal: CurrentPrincipal, webhooks: Webhooks
) -> ReplayPublic:
    """Queue one delivery, or every original delivery created in [since, until), again."""
    copies = webhooks.replay(
        endpoint_id, principal.tenant_id, delivery_id=body.delivery_id, since=body.since,
        until=body.until,
    )  # fmt: skip
    return ReplayPublic(count=len(copies), deliveries=[c.id for c in copies])
