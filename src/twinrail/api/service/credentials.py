"""API clients and API keys: created with a secret shown once, stored hashed, revocable."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from twinrail.api.domain.errors import InvalidClient, NotAuthenticated, ResourceNotFound
from twinrail.api.domain.model import ApiClient, ApiKey, Principal
from twinrail.api.domain.roles import Role
from twinrail.api.service.ids import hash_secret, new_id, new_secret
from twinrail.api.store.api_store import ApiStore
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.platform.uow import UnitOfWork

__all__ = ["CredentialService", "IssuedClient", "IssuedApiKey", "API_KEY_PREFIX"]

API_KEY_PREFIX = "trk_"


@dataclass(frozen=True, slots=True)
class IssuedClient:
    client: ApiClient
    client_secret: str  # shown once


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    key: ApiKey
    api_key: str  # shown once: "trk_<prefix>_<secret>"


class CredentialService:
    """Creates and checks client credentials and API keys."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    def create_client(self, name: str, role: Role, *, actor: str = "system") -> IssuedClient:
        """Create an API client in `role`; its secret is returned here and never again."""
        client = ApiClient(new_id("cli"), name, role, self.clock())
        secret = new_secret()
        with UnitOfWork(self.engine, actor=actor, clock=self.clock) as uow:
            ApiStore(uow.connection).add_client(client, hash_secret(secret))
            uow.audit("api.create_client", f"client:{client.id}", role=role.value)
            uow.commit()
        return IssuedClient(client, secret)

    def has_clients(self) -> bool:
        with self._reader() as conn:
            return ApiStore(conn).has_clients()

    def list_clients(self, after: str | None, limit: int) -> list[ApiClient]:
        with self._reader() as conn:
            return ApiStore(conn).list_clients(after, limit)

    def authenticate_client(self, client_id: str, client_secret: str) -> ApiClient:
        """The enabled client with this id and secret, else InvalidClient."""
        with self._reader() as conn:
            found = ApiStore(conn).client_with_secret_hash(client_id)
        # compare even when unknown so that timing does not tell which ids exist
        expected = found[1] if found else hash_secret("")
        matches = hmac.compare_digest(expected, hash_secret(client_secret))
        if found is None or not matches or found[0].disabled:
            raise InvalidClient("client authentication failed")
        return found[0]

    def create_api_key(self, client_id: str, name: str, *, actor: str) -> IssuedApiKey:
        """A new API key for `client_id`; the full key is returned here and never again."""
        prefix = new_secret()[:12].replace("-", "x").replace("_", "x")
        secret = new_secret()
        plaintext = f"{API_KEY_PREFIX}{prefix}_{secret}"
        key = ApiKey(new_id("key"), client_id, prefix, name, self.clock())
        with UnitOfWork(self.engine, actor=actor, clock=self.clock) as uow:
            store = ApiStore(uow.connection)
            if store.client(client_id) is None:
                raise ResourceNotFound("no such client", resource="client")
            store.add_api_key(key, hash_secret(plaintext))
            uow.audit("api.create_api_key", f"api_key:{key.id}", client_id=client_id)
            uow.commit()
        return IssuedApiKey(key, plaintext)

    def revoke_api_key(self, key_id: str, *, tenant_id: str | None, actor: str) -> ApiKey:
        """Revoke a key (idempotent); a tenant may only revoke its own keys."""
        with UnitOfWork(self.engine, actor=actor, clock=self.clock) as uow:
            store = ApiStore(uow.connection)
            key = store.api_key(key_id)
            if key is None or (tenant_id is not None and key.client_id != tenant_id):
                raise ResourceNotFound("no such API key", resource="api_key")
            store.revoke_api_key(key_id, self.clock())
            uow.audit("api.revoke_api_key", f"api_key:{key_id}")
            uow.commit()
            revoked = store.api_key(key_id)
        assert revoked is not None
        return revoked

    def authenticate_api_key(self, plaintext: str) -> Principal:
        """The principal behind a live API key, else NotAuthenticated."""
        parts = plaintext[len(API_KEY_PREFIX) :].split("_", 1)
        if not plaintext.startswith(API_KEY_PREFIX) or len(parts) != 2:
            raise NotAuthenticated("the API key is not valid")
        with self._reader() as conn:
            found = ApiStore(conn).api_key_by_prefix(parts[0])
        if found is None:
            raise NotAuthenticated("the API key is not valid")
        key, key_hash, client = found
        if (
            not hmac.compare_digest(key_hash, hash_secret(plaintext))
            or key.revoked_at is not None
            or client.disabled
        ):
            raise NotAuthenticated("the API key is not valid")
        return Principal(client.id, client.role, f"api_key:{key.id}")

    def _reader(self) -> Connection:
        return self.engine.connect().execution_options(**READ_ONLY)
