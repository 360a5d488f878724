"""Liveness, readiness and the JWKS: public routes outside the versioned API."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from twinrail.api.deps import PUBLIC, ServicesDep
from twinrail.api.idempotent_route import IdempotentRoute
from twinrail.api.metrics import CONTENT_TYPE, ApiMetrics
from twinrail.api.schemas import HealthPublic

__all__ = ["router"]

router = APIRouter(tags=["system"], route_class=IdempotentRoute)


@router.get("/healthz", response_model=HealthPublic, openapi_extra=PUBLIC)
async def healthz() -> HealthPublic:
    """The process is alive (no dependency is checked)."""
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    response_model=HealthPublic,
    openapi_extra=PUBLIC,
    responses={503: {"model": HealthPublic, "description": "A dependency is unreachable."}},
)
def readyz(services: ServicesDep) -> Any:
    """The database answers, and the bus when one is configured."""
    checks = {"database": _check_database(services), "bus": _check_bus(services)}
    ready = all(v in ("ok", "not configured") for v in checks.values())
    body = HealthPublic(status="ready" if ready else "unavailable", checks=checks)
    return body if ready else JSONResponse(body.model_dump(), status_code=503)


@router.get(
    "/metrics",
    openapi_extra=PUBLIC,
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    """Prometheus metrics (expose on an internal network only)."""
    registry: ApiMetrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE)


@router.get("/.well-known/jwks.json", openapi_extra=PUBLIC)
def jwks(services: ServicesDep) -> dict[str, Any]:
    """The public keys that verify access tokens (current and retiring)."""
    return services.tokens.jwks()


def _check_database(services: ServicesDep) -> str:
    try:
        with services.platform.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means not ready; details stay in the logs
        return "unreachable"


def _check_bus(services: ServicesDep) -> str:
    url = services.platform.settings.bus_url
    if not url.startswith("nats://"):
        return "not configured"  # the in-process bus lives and dies with this process
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 4222),
            timeout=services.settings.readiness_timeout_seconds,
        ):
            return "ok"
    except OSError:
        return "unreachable"
