"""The application factory: a FastAPI app over a bootstrapped platform."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from twinrail.api.adapters.rate_limit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter
from twinrail.api.deps import Services
from twinrail.api.metrics import ApiMetrics
from twinrail.api.middleware import RequestIdMiddleware
from twinrail.api.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from twinrail.api.routers import (
    accounts,
    compliance,
    credentials,
    customers,
    oauth,
    payment_orders,
    system,
    webhooks,
)
from twinrail.api.service.credentials import CredentialService
from twinrail.api.service.customers import CustomerService
from twinrail.api.service.idempotency import IdempotencyService
from twinrail.api.service.tokens import TokenService
from twinrail.api.settings import ApiSettings
from twinrail.bootstrap import Platform, bootstrap
from twinrail.ledger.service.group_commit import GroupCommitter
from twinrail.notify.service.wiring import build_endpoint_service
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.logging import configure_logging
from twinrail.platform.relay import outbox_backlog
from twinrail.platform.telemetry import configure_tracing
from twinrail.rails import build_payment_orders

__all__ = ["create_app", "build_services", "app_from_environment"]

_REQUEST_THREADS = 16

_DESCRIPTION = """
The twinrail public API. Authenticate with OAuth2 client credentials (`POST /oauth/token`) or an
API key, both sent as `Authorization: Bearer ...`. Every POST needs an `Idempotency-Key`; errors
are RFC 9457 `application/problem+json`; lists page with an opaque `cursor`; every response
carries `X-Request-ID`.
"""

_PROBLEM_RESPONSE = {
    "description": "An RFC 9457 problem.",
    "content": {
        PROBLEM_MEDIA_TYPE: {
            "schema": {"$ref": "#/components/schemas/Problem"},
            "example": {
                "type": "https://twinrail.dev/problems/api.not_found",
                "title": "Not found",
                "status": 404,
                "detail": "no such customer",
                "instance": "/v1/customers/cus_0187",
                "code": "api.not_found",
                "request_id": "req_5f0c",
            },
        }
    },
}


def build_services(
    platform: Platform,
    settings: ApiSettings | None = None,
    *,
    clock: Clock = utc_now,
    rate_limiter: RateLimiter | None = None,
) -> Services:
    """The services behind the API, with the rate limiter its settings choose."""
    settings = settings or ApiSettings()
    if rate_limiter is None:
        limits = {"rate": settings.rate_per_second, "burst": settings.rate_burst}
        rate_limiter = (
            RedisRateLimiter(settings.redis_url, **limits)  # type: ignore[arg-type]
            if settings.redis_url
            else InMemoryRateLimiter(**limits)  # type: ignore[arg-type]
        )
    engine = platform.engine
    committer = GroupCommitter(platform.ledger) if settings.group_commit else None
    payment_orders = build_payment_orders(platform, committer=committer, clock=clock)
    return Services(
        platform=platform,
        settings=settings,
        credentials=CredentialService(engine, clock=clock),
        tokens=TokenService(
            engine, issuer=settings.issuer, ttl_seconds=settings.token_ttl_seconds, clock=clock
        ),
        customers=CustomerService(engine, platform.ledger, clock=clock),
        idempotency=IdempotencyService(
            engine,
            ttl=dt.timedelta(hours=settings.idempotency_ttl_hours),
            lease=dt.timedelta(seconds=settings.idempotency_lease_seconds),
            clock=clock,
        ),
        rate_limiter=rate_limiter,
        payment_orders=payment_orders,
        compliance=payment_orders.compliance,
        committer=committer,
    )


def create_app(
    platform: Platform,
    settings: ApiSettings | None = None,
    *,
    clock: Clock = utc_now,
    rate_limiter: RateLimiter | None = None,
) -> FastAPI:
    """The HTTP API over `platform` (its engine and ledger)."""
    services = build_services(platform, settings, clock=clock, rate_limiter=rate_limiter)
    services.tokens.ensure_signing_key()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Fewer request threads than anyio's default 40: past the pool's size they would only
        # queue for a connection, and every extra thread adds to the contention for the GIL.
        to_thread.current_default_thread_limiter().total_tokens = _REQUEST_THREADS
        yield
        services.close()

    app = FastAPI(
        lifespan=lifespan,
        title="twinrail",
        version="1",
        description=_DESCRIPTION,
        responses={"default": _PROBLEM_RESPONSE},
        docs_url="/docs",
        redoc_url=None,
        # FastAPI's own OpenTelemetry server span stays; its log records (which quote invalid
        # input) never go out: personal data stays out of telemetry as out of logs.
        telemetry={"logs": False},
    )
    app.state.services = services
    app.state.webhooks = build_endpoint_service(
        platform.engine, platform.settings.var_dir, clock=clock
    )
    install_problem_handlers(app)
    for module in (
        system,
        oauth,
        customers,
        accounts,
        payment_orders,
        credentials,
        webhooks,
        compliance,
    ):
        app.include_router(module.router)
    metrics = ApiMetrics(
        services.payment_orders.counts_by_state,
        outbox_backlog=functools.partial(outbox_backlog, platform.engine, clock),
        webhook_health=app.state.webhooks.delivery_health,
    )
    app.state.metrics = metrics
    app.add_middleware(RequestIdMiddleware, observe=metrics.observe)
    _add_problem_schema(app)
    return app


def _add_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict:  # type: ignore[type-arg]
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = {
            "type": "object",
            "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "code": {"type": "string"},
                "request_id": {"type": ["string", "null"]},
                "invalid_fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "location": {"type": "string"},
                            "message": {"type": "string"},
                            "type": {"type": "string"},
                        },
                    },
                },
            },
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_environment() -> FastAPI:
    """The app from `TWINRAIL_*` settings: the uvicorn factory behind `twinrail serve`."""
    configure_logging()
    configure_tracing()
    return create_app(bootstrap())
