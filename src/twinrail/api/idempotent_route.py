"""The route class that makes every POST idempotent: claim the key, run, store, replay.

The claim is a dependency (it needs the authenticated client); the response is captured here,
around the handler, because only here is the final status and body known. Errors with a definite
answer (4xx) are stored like successes; faults (5xx) release the key so a retry runs again.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from twinrail.api.deps import Claim, Services, StoredReplay, claim_idempotency_key
from twinrail.api.problems import problem_for_exception
from twinrail.api.service.idempotency import StoredResponse

__all__ = ["IdempotentRoute", "IDEMPOTENCY_EXEMPT"]

# OAuth2 token requests are form posts from standard clients, which send no such header.
IDEMPOTENCY_EXEMPT = {"/oauth/token"}


class IdempotentRoute(APIRoute):
    """An APIRoute whose POST requests need, and honour, an Idempotency-Key."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        self.idempotent = "POST" in methods and path not in IDEMPOTENCY_EXEMPT
        if self.idempotent:
            kwargs["dependencies"] = [
                *(kwargs.get("dependencies") or []),
                Depends(claim_idempotency_key),
            ]
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not self.idempotent:
            return handler

        async def idempotent_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except StoredReplay as replay:
                return _replayed(replay.stored)
            except Exception as exc:
                claim: Claim | None = getattr(request.state, "idempotency_claim", None)
                if claim is None:
                    raise
                response = problem_for_exception(request, exc)
                if response.status_code >= 500:
                    await run_in_threadpool(_services(request).idempotency.release,
                                            claim.client_id, claim.key)  # fmt: skip
                    return response
            claim = getattr(request.state, "idempotency_claim", None)
            if claim is not None:
                stored = StoredResponse(
                    response.status_code,
                    bytes(response.body),
                    response.headers.get("content-type", "application/json"),
                )
                await run_in_threadpool(
                    _services(request).idempotency.complete, claim.client_id, claim.key, stored
                )
            return response

        return idempotent_handler


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _replayed(stored: StoredResponse) -> Response:
    return Response(
        stored.body,
        stored.status_code,
        media_type=stored.content_type,
        headers={"Idempotent-Replayed": "true"},
    )
