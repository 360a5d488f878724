"""The api context's values: API clients, their keys, principals, customers and accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from twinrail.api.domain.roles import Role, is_tenant_bound

__all__ = [
    "ApiClient",
    "ApiKey",
    "Principal",
    "CustomerKind",
    "Customer",
    "CustomerAccount",
    "SigningKey",
]


@dataclass(frozen=True, slots=True)
class ApiClient:
    """An OAuth2 client: a tenant's backend (role `client`) or a staff credential."""

    id: str
    name: str
    role: Role
    created_at: dt.datetime
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A long-lived server-to-server key; only its prefix and hash are kept."""

    id: str
    client_id: str
    prefix: str
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the client, its role, and the credential it used."""

    client_id: str
    role: Role
    credential: str  # "token:<kid>" or "api_key:<id>"; never the secret itself

    @property
    def tenant_id(self) -> str | None:
        """The tenant this caller is confined to, or None for platform staff."""
        return self.client_id if is_tenant_bound(self.role) else None


class CustomerKind(StrEnum):
    INDIVIDUAL = "individual"
    BUSINESS = "business"


@dataclass(frozen=True, slots=True)
class Customer:
    """A client's customer; `details` holds personal data and is never logged."""

    id: str
    client_id: str
    kind: CustomerKind
    details: dict[str, Any]
    external_ref: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CustomerAccount:
    """A customer's account in one asset, backed by one ledger account."""

    id: str
    client_id: str
    customer_id: str
    asset: str
    ledger_account_id: str
    created_at: dt.datetime
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A JWT signing key; published in the JWKS until `retire_after`, signing while active."""

    kid: str
    private_jwk: dict[str, Any]
    created_at: dt.datetime
    retired_at: dt.datetime | None = None  # stopped signing
    retire_after: dt.datetime | None = None  # stops verifying (last token it signed expired)
