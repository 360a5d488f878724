"""OAuth2 client credentials (RFC 6749 §4.4): client id and secret in, short-lived JWT out."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Header
from starlette.concurrency import run_in_threadpool

from twinrail.api.deps import PUBLIC, ServicesDep
from twinrail.api.domain.errors import InvalidClient, RateLimited, UnsupportedGrantType
from twinrail.api.idempotent_route import IdempotentRoute
from twinrail.api.schemas import TokenPublic

__all__ = ["router"]

router = APIRouter(tags=["auth"], route_class=IdempotentRoute)


@router.post("/oauth/token", response_model=TokenPublic, openapi_extra=PUBLIC)
async def issue_token(
    services: ServicesDep,
    grant_type: Annotated[str, Form(examples=["client_credentials"])],
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> TokenPublic:
    """Issue an access token; authenticate with HTTP Basic or `client_id`/`client_secret` fields."""
    if grant_type != "client_credentials":
        raise UnsupportedGrantType("only the client_credentials grant is supported")
    basic = _basic_credentials(authorization)
    if basic is not None:
        client_id, client_secret = basic
    if not client_id or not client_secret or "\x00" in client_id + client_secret:
        raise InvalidClient("client authentication failed")  # no such client holds a NUL
    decision = services.rate_limiter.take(f"token:{client_id}")
    if not decision.allowed:
        raise RateLimited("too many token requests", retry_after=decision.retry_after,
                          limit=services.rate_limiter.burst)  # fmt: skip
    client = await run_in_threadpool(
        services.credentials.authenticate_client, client_id, client_secret
    )
    token, ttl = services.tokens.issue(client)
    return TokenPublic(access_token=token, expires_in=ttl, scope=client.role.value)


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidClient("client authentication failed") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("client authentication failed")
    return unquote(client_id), unquote(secret)  # RFC 6749 §2.3.1 form-encodes both
