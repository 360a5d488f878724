"""ASGI middleware: the request id (accepted or generated, echoed) and one access log line.

The server span is FastAPI's own (its native OpenTelemetry support, active once a tracer provider
is installed); this middleware only labels it with the request id and the tenant.

The access line carries the request id, the caller's client id (the tenant), the route template,
the status and the duration — never headers, query strings or bodies, which may hold secrets or
personal data.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from opentelemetry import trace
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twinrail.api.problems import problem_response
from twinrail.platform.logging import request_context

__all__ = ["RequestIdMiddleware", "REQUEST_ID_HEADER"]

_log = structlog.get_logger("twinrail.api.access")

REQUEST_ID_HEADER = "X-Request-ID"
# Accept only ids that are safe to log and echo; anything else is replaced, not reflected.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Puts the request id in `request.state.request_id` and on every response."""

    def __init__(
        self, app: ASGIApp, observe: Callable[[str, str, int, float], None] | None = None
    ) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), ""
        )
        request_id = offered if _VALID.match(offered) else f"req_{uuid.uuid4().hex}"
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500  # if the app fails before answering, the server answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        # Every log line written while serving carries the request id and, once authentication
        # has put the principal in `state`, the tenant (see platform.logging).
        token = request_context.set(state)
        span = trace.get_current_span()
        try:
            if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
                await _refuse_nul(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            principal = state.get("principal")
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            if self.observe is not None:
                self.observe(scope["method"], route, status, seconds)
            if span.is_recording():
                span.set_attribute("twinrail.request_id", request_id)
                if principal is not None:
                    span.set_attribute("twinrail.tenant", principal.client_id)
            _log.info(
                "http.request",
                request_id=request_id,
                method=scope["method"],
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 2),
                client_id=getattr(principal, "client_id", None),
            )
            request_context.reset(token)


async def _refuse_nul(scope: Scope, receive: Receive, send: Send) -> None:
    """400 for a NUL character in the path or query: no id or filter holds one, and PostgreSQL
    text cannot, so it is refused here rather than failing in the database."""
    response = problem_response(
        Request(scope),
        400,
        "api.invalid_request",
        "Invalid request",
        "the path and query must not contain the NUL character",
    )
    await response(scope, receive, send)
