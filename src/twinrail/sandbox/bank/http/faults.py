"""The profile's gateway behaviour, in front of the whole bank: latency, a rate limit per TPP
certificate, configured 5xx answers and dropped connections.

It wraps the ASGI app that uvicorn serves (outside FastAPI's own middleware), because dropping a
connection needs uvicorn's `send`, whose bound object holds the connection's transport. Order per
/v1 request: the latency, then the rate limit (429 with Retry-After, counted per certificate in
sandbox time over a sliding window), then the request's number decides a dropped connection or a
5xx, before the bank does any work (nothing changes); or a lost response, after it (the work
stands, the TPP never hears of it).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from twinrail.platform.clock import Clock
from twinrail.sandbox.bank.http.errors import request_id_of, tpp_error
from twinrail.sandbox.bank.profile import BankProfile

__all__ = ["FaultInjector", "RateLimiter"]

Sleep = Callable[[float], Awaitable[None]]
_AIS_PREFIXES = ("/v1/consents", "/v1/accounts")  # the spec gives AIS 429s a tppMessages body


class RateLimiter:
    """At most `limit` requests per key within any `window` seconds of the clock's time."""

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """None if the request may go ahead (and counts it), else the seconds to wait."""
        now = self.clock().timestamp()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return max(1, math.ceil(seen[0] + self.window - now))
            seen.append(now)
            return None


class FaultInjector:
    """ASGI wrapper applying a profile's latency, rate limit and configured faults."""

    def __init__(
        self, app: Any, profile: BankProfile, clock: Clock, *, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.app = app
        self.profile = profile
        self.sleep = sleep
        limit = profile.rate_limit
        self.limiter = RateLimiter(limit.requests, limit.per_seconds, clock) if limit else None
        self.requests = 0  # /v1 requests seen, for the "every Nth" faults
        self._rng = random.Random(profile.faults.seed)
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        if self.profile.latency_ms:
            await self.sleep(self.profile.latency_ms / 1000)
        if self.limiter is not None:
            wait = self.limiter.retry_after(_certificate_key(scope))
            if wait is not None:
                await _too_many_requests(scope, wait)(scope, receive, send)
                return
        drop, fail, lose = self._draw()
        if drop and await _drop_connection(send):
            return
        if fail:
            status = self.profile.faults.server_error_status
            await _no_body(scope, status)(scope, receive, send)
            return
        await self.app(scope, receive, _losing(send) if lose else send)

    def _draw(self) -> tuple[bool, bool, bool]:
        faults = self.profile.faults
        with self._lock:
            self.requests += 1
            n = self.requests
            drop = bool(faults.drop_connection_every) and n % faults.drop_connection_every == 0
            fail = bool(faults.server_error_every) and n % faults.server_error_every == 0
            lose = bool(faults.lose_response_every) and n % faults.lose_response_every == 0
            # Draw both every time so that one rate does not shift the other's sequence.
            drop_draw, fail_draw = self._rng.random(), self._rng.random()
        drop = drop or drop_draw < faults.drop_connection_rate
        fail = fail or fail_draw < faults.server_error_rate
        return drop, fail, lose


def _certificate_key(scope: dict[str, Any]) -> str:
    tls = scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return hashlib.sha256(chain[0].encode("ascii")).hexdigest() if chain else "anonymous"


def _too_many_requests(scope: dict[str, Any], wait: int) -> Response:
    request = Request(scope)
    if scope["path"].startswith(_AIS_PREFIXES):
        response = tpp_error(
            request, "ACCESS_EXCEEDED", "rate limit of this TPP certificate reached", status=429
        )
    else:
        response = _no_body(scope, 429)  # PIS and PIIS 429s have no body in the spec
    response.headers["Retry-After"] = str(wait)
    return response


def _no_body(scope: dict[str, Any], status: int) -> Response:
    # The spec's 500 and 503 (and PIS 429) responses have no body, only X-Request-ID.
    return Response(status_code=status, headers={"X-Request-ID": request_id_of(Request(scope))})


def _losing(send: Any) -> Any:
    """A `send` that closes the connection instead of answering; the app's work stands."""
    lost = False

    async def lose(message: dict[str, Any]) -> None:
        nonlocal lost
        if message["type"] == "http.response.start" and not lost:
            lost = await _drop_connection(send)
        if not lost:
            await send(message)

    return lose


async def _drop_connection(send: Any) -> bool:
    """Close the TCP connection without an answer; False where the server offers no transport."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        return False
    transport.abort()
    await asyncio.sleep(0)  # let the server see the connection lost before the app returns
    return True
