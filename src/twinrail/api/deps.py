"""FastAPI dependencies as `Annotated` aliases: services, the caller, permissions, limits, keys.

A route declares what it needs with `**needs(Permission.X)`; the permission travels into the
OpenAPI document as `x-permission`, which is what the route × role test reads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2
from starlette.concurrency import run_in_threadpool

from twinrail.api.adapters.rate_limit import RateLimiter
from twinrail.api.domain.cursor import decode_cursor
from twinrail.api.domain.errors import (
    IdempotencyKeyMissing,
    NotAuthenticated,
    PermissionDenied,
    RateLimited,
)
from twinrail.api.domain.model import Principal
from twinrail.api.domain.roles import Permission, role_allows
from twinrail.api.service.credentials import API_KEY_PREFIX, CredentialService
from twinrail.api.service.customers import CustomerService
from twinrail.api.service.idempotency import IdempotencyService, StoredResponse
from twinrail.api.service.tokens import TokenService
from twinrail.api.settings import ApiSettings
from twinrail.bootstrap import Platform
from twinrail.ledger.service.group_commit import GroupCommitter
from twinrail.pipeline.service.payment_orders import PaymentOrderService
from twinrail.pipeline.service.ports import CompliancePort

__all__ = [
    "Services",
    "ServicesDep",
    "CurrentPrincipal",
    "PageCursor",
    "PageLimit",
    "IdempotencyClaim",
    "Claim",
    "StoredReplay",
    "claim_idempotency_key",
    "needs",
    "PUBLIC",
]

PUBLIC = {"x-permission": "public"}


@dataclass
class Services:
    """Everything a request handler may use, built once per app."""

    platform: Platform
    settings: ApiSettings
    credentials: CredentialService
    tokens: TokenService
    customers: CustomerService
    idempotency: IdempotencyService
    rate_limiter: RateLimiter
    payment_orders: PaymentOrderService
    compliance: CompliancePort
    committer: GroupCommitter | None = None

    def close(self) -> None:
        """Stop the background threads (group committers) the services started."""
        if self.committer is not None:
            self.committer.close()


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency on the
# thread pool, and a hop per dependency costs more than the dependency itself.


async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]

_bearer = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth/token")),
    scheme_name="oauth2",
    description="A JWT from POST /oauth/token, or an API key (`trk_...`) as the bearer token.",
    auto_error=False,
)


async def _authenticate(
    services: ServicesDep,
    request: Request,
    response: Response,
    authorization: Annotated[str | None, Depends(_bearer)],
) -> Principal:
    scheme, _, credential = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credential:
        raise NotAuthenticated("send `Authorization: Bearer <access token or API key>`")
    if credential.startswith(API_KEY_PREFIX):  # a database lookup
        principal = await run_in_threadpool(services.credentials.authenticate_api_key, credential)
    else:  # a signature check, cached per token
        principal = services.tokens.verify(credential)
    request.state.principal = principal
    limiter = services.rate_limiter
    name = f"client:{principal.client_id}"
    if limiter.blocking:
        await run_in_threadpool(_take_rate_token, limiter, name, response)
    else:
        _take_rate_token(limiter, name, response)
    return principal


def _take_rate_token(limiter: RateLimiter, name: str, response: Response) -> None:
    decision = limiter.take(name)
    if not decision.allowed:
        raise RateLimited(
            "rate limit exceeded; retry later",
            retry_after=decision.retry_after,
            limit=limiter.burst,
        )
    response.headers["RateLimit-Limit"] = str(limiter.burst)
    response.headers["RateLimit-Remaining"] = str(decision.remaining)
    response.headers["RateLimit-Reset"] = str(decision.reset_after)


CurrentPrincipal = Annotated[Principal, Depends(_authenticate)]


def needs(permission: Permission) -> dict[str, Any]:
    """Route keyword arguments that require `permission` and publish it in the OpenAPI."""

    async def check(principal: CurrentPrincipal) -> None:
        if not role_allows(principal.role, permission):
            raise PermissionDenied(
                f"role `{principal.role.value}` may not do this", permission=permission.value
            )

    return {
        "dependencies": [Depends(check)],
        "openapi_extra": {"x-permission": permission.value},
    }


async def _cursor(
    cursor: Annotated[
        str | None, Query(max_length=300, description="`next_cursor` of the previous page.")
    ] = None,
) -> str | None:
    return decode_cursor(cursor) if cursor else None


PageCursor = Annotated[str | None, Depends(_cursor)]
PageLimit = Annotated[int, Query(ge=1, le=200, description="Page size.")]


@dataclass(frozen=True, slots=True)
class Claim:
    client_id: str
    key: str


class StoredReplay(Exception):
    """Carries a stored response out of the dependencies to the idempotent route."""

    def __init__(self, stored: StoredResponse) -> None:
        super().__init__("replay")
        self.stored = stored


async def claim_idempotency_key(
    request: Request,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description="Unique per operation; a retry with the same key and body replays the "
            "first response. Kept 24 hours.",
        ),
    ] = None,
) -> Claim:
    """Claim the request's Idempotency-Key for this client, or replay / refuse (see service)."""
    if not idempotency_key:
        raise IdempotencyKeyMissing("POST requests need an Idempotency-Key header")
    digest = _request_hash(request.method, request.url.path, await request.body())
    stored = await run_in_threadpool(
        services.idempotency.claim, principal.client_id, idempotency_key, digest
    )
    if stored is not None:
        raise StoredReplay(stored)
    claim = Claim(principal.client_id, idempotency_key)
    request.state.idempotency_claim = claim
    return claim


def _request_hash(method: str, path: str, body: bytes) -> str:
    try:  # the same JSON in another key order or spacing is the same request
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


IdempotencyClaim = Annotated[Claim, Depends(claim_idempotency_key)]
