"""API clients, API keys and signing keys: the credentials behind every other route."""

from __future__ import annotations

from fastapi import APIRouter, status

from twinrail.api.deps import CurrentPrincipal, PageCursor, PageLimit, ServicesDep, needs
from twinrail.api.domain.cursor import encode_cursor
from twinrail.api.domain.errors import ResourceNotFound
from twinrail.api.domain.model import ApiClient, ApiKey
from twinrail.api.domain.roles import Permission
from twinrail.api.idempotent_route import IdempotentRoute
from twinrail.api.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ClientCreate,
    ClientCreated,
    ClientPage,
    ClientPublic,
    SigningKeyRotated,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["credentials"], route_class=IdempotentRoute)


def client_public(client: ApiClient) -> ClientPublic:
    return ClientPublic(
        id=client.id, name=client.name, role=client.role, created_at=client.created_at,
        disabled=client.disabled,
    )  # fmt: skip


def api_key_public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=key.id, client_id=key.client_id, prefix=key.prefix, name=key.name,
        created_at=key.created_at, revoked_at=key.revoked_at,
    )  # fmt: skip


@router.post(
    "/clients",
    response_model=ClientCreated,
    status_code=status.HTTP_201_CREATED,
    **needs(Permission.CLIENTS_WRITE),
)
def create_client(
    body: ClientCreate, principal: CurrentPrincipal, services: ServicesDep
) -> ClientCreated:
    """Create an API client; its secret is in this response only."""
    issued = services.credentials.create_client(
        body.name, body.role, actor=f"client:{principal.client_id}"
    )
    return ClientCreated(
        **client_public(issued.client).model_dump(), client_secret=issued.client_secret
    )


@router.get("/clients", response_model=ClientPage, **needs(Permission.CLIENTS_READ))
def list_clients(services: ServicesDep, cursor: PageCursor, limit: PageLimit = 50) -> ClientPage:
    """Every API client, by id."""
    found = services.credentials.list_clients(cursor, limit + 1)
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].id) if len(found) > limit else None
    return ClientPage(data=[client_public(c) for c in page], next_cursor=next_cursor)


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    **needs(Permission.API_KEYS_MANAGE),
)
def create_api_key(
    body: ApiKeyCreate, principal: CurrentPrincipal, services: ServicesDep
) -> ApiKeyCreated:
    """A new API key for the caller (admins: for `client_id`); the key is shown once."""
    client_id = body.client_id or principal.client_id
    if principal.tenant_id is not None and client_id != principal.tenant_id:
        raise ResourceNotFound("no such client", resource="client")
    issued = services.credentials.create_api_key(
        client_id, body.name, actor=f"client:{principal.client_id}"
    )
    return ApiKeyCreated(**api_key_public(issued.key).model_dump(), api_key=issued.api_key)


@router.post(
    "/api-keys/{key_id}/revoke", response_model=ApiKeyPublic, **needs(Permission.API_KEYS_MANAGE)
)
def revoke_api_key(key_id: str, principal: CurrentPrincipal, services: ServicesDep) -> ApiKeyPublic:
    """Revoke an API key at once; a tenant may revoke only its own."""
    key = services.credentials.revoke_api_key(
        key_id, tenant_id=principal.tenant_id, actor=f"client:{principal.client_id}"
    )
    return api_key_public(key)


@router.post(
    "/signing-keys/rotate",
    response_model=SigningKeyRotated,
    **needs(Permission.SIGNING_KEYS_ROTATE),
)
def rotate_signing_key(principal: CurrentPrincipal, services: ServicesDep) -> SigningKeyRotated:
    """Sign new tokens with a fresh key; tokens signed before stay valid until they expire."""
    return SigningKeyRotated(kid=services.tokens.rotate(actor=f"client:{principal.client_id}"))
