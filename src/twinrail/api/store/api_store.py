"""Reads and writes of the api context's rows, mapped to the domain's frozen dataclasses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from twinrail.api.domain.model import (
    ApiClient,
    ApiKey,
    Customer,
    CustomerAccount,
    CustomerKind,
    SigningKey,
)
from twinrail.api.domain.roles import Role
from twinrail.api.store.tables import (
    api_keys,
    clients,
    customer_accounts,
    customers,
    signing_keys,
)

__all__ = ["ApiStore"]


def _client(row: RowMapping) -> ApiClient:
    return ApiClient(row["id"], row["name"], Role(row["role"]), row["created_at"], row["disabled"])


def _api_key(row: RowMapping) -> ApiKey:
    return ApiKey(
        row["id"], row["client_id"], row["prefix"], row["name"], row["created_at"],
        row["revoked_at"],
    )  # fmt: skip


def _customer(row: RowMapping) -> Customer:
    return Customer(
        row["id"], row["client_id"], CustomerKind(row["kind"]), dict(row["details"]),
        row["external_ref"], row["created_at"],
    )  # fmt: skip


def _account(row: RowMapping) -> CustomerAccount:
    return CustomerAccount(
        row["id"], row["client_id"], row["customer_id"], row["asset"],
        row["ledger_account_id"], row["created_at"], dict(row["metadata"]),
    )  # fmt: skip


def _signing_key(row: RowMapping) -> SigningKey:
    return SigningKey(
        row["kid"], dict(row["private_jwk"]), row["created_at"], row["retired_at"],
        row["retire_after"],
    )  # fmt: skip


class ApiStore:
    """The api context's rows on one connection; never commits."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # clients and keys

    def add_client(self, client: ApiClient, secret_hash: str) -> None:
        self.conn.execute(
            insert(clients).values(
                id=client.id, name=client.name, role=client.role.value,
                secret_hash=secret_hash, created_at=client.created_at, disabled=client.disabled,
            )
        )  # fmt: skip

    def client_with_secret_hash(self, client_id: str) -> tuple[ApiClient, str] | None:
        row = self.conn.execute(select(clients).where(clients.c.id == client_id)).mappings().first()
        return (_client(row), row["secret_hash"]) if row else None

    def client(self, client_id: str) -> ApiClient | None:
        found = self.client_with_secret_hash(client_id)
        return found[0] if found else None

    def list_clients(self, after: str | None, limit: int) -> list[ApiClient]:
        query = select(clients).order_by(clients.c.id).limit(limit)
        if after is not None:
            query = query.where(clients.c.id > after)
        return [_client(r) for r in self.conn.execute(query).mappings()]

    def has_clients(self) -> bool:
        return self.conn.execute(select(clients.c.id).limit(1)).first() is not None

    def add_api_key(self, key: ApiKey, key_hash: str) -> None:
        self.conn.execute(
            insert(api_keys).values(
                id=key.id, client_id=key.client_id, prefix=key.prefix, key_hash=key_hash,
                name=key.name, created_at=key.created_at, revoked_at=None,
            )
        )  # fmt: skip

    def api_key_by_prefix(self, prefix: str) -> tuple[ApiKey, str, ApiClient] | None:
        query = (
            select(api_keys, clients.c.name, clients.c.role, clients.c.disabled,
                   clients.c.created_at.label("client_created_at"))
            .join(clients, clients.c.id == api_keys.c.client_id)
            .where(api_keys.c.prefix == prefix)
        )  # fmt: skip
        row = self.conn.execute(query).mappings().first()
        if row is None:
            return None
        client = ApiClient(
            row["client_id"], row["name"], Role(row["role"]), row["client_created_at"],
            row["disabled"],
        )  # fmt: skip
        return _api_key(row), row["key_hash"], client

    def api_key(self, key_id: str) -> ApiKey | None:
        row = self.conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        return _api_key(row) if row else None

    def revoke_api_key(self, key_id: str, at: dt.datetime) -> None:
        self.conn.execute(
            update(api_keys)
            .where(and_(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)))
            .values(revoked_at=at)
        )

    # signing keys

    def signing_keys(self) -> list[SigningKey]:
        rows = self.conn.execute(select(signing_keys).order_by(signing_keys.c.created_at))
        return [_signing_key(r) for r in rows.mappings()]

    def add_signing_key(self, key: SigningKey) -> None:
        self.conn.execute(
            insert(signing_keys).values(
                kid=key.kid, private_jwk=key.private_jwk, created_at=key.created_at,
                retired_at=None, retire_after=None,
            )
        )  # fmt: skip

    def retire_signing_keys(self, except_kid: str, at: dt.datetime, after: dt.datetime) -> None:
        self.conn.execute(
            update(signing_keys)
            .where(and_(signing_keys.c.kid != except_kid, signing_keys.c.retired_at.is_(None)))
            .values(retired_at=at, retire_after=after)
        )

    def drop_signing_keys_retired_before(self, moment: dt.datetime) -> None:
        self.conn.execute(delete(signing_keys).where(signing_keys.c.retire_after < moment))

    # customers and accounts

    def add_customer(self, customer: Customer) -> None:
        self.conn.execute(
            insert(customers).values(
                id=customer.id, client_id=customer.client_id, kind=customer.kind.value,
                details=customer.details, external_ref=customer.external_ref,
                created_at=customer.created_at,
            )
        )  # fmt: skip

    def customer(self, customer_id: str, tenant_id: str | None) -> Customer | None:
        query = select(customers).where(customers.c.id == customer_id)
        if tenant_id is not None:
            query = query.where(customers.c.client_id == tenant_id)
        row = self.conn.execute(query).mappings().first()
        return _customer(row) if row else None

    def list_customers(
        self, tenant_id: str | None, after: str | None, limit: int
    ) -> list[Customer]:
        query = select(customers).order_by(customers.c.id).limit(limit)
        if tenant_id is not None:
            query = query.where(customers.c.client_id == tenant_id)
        if after is not None:
            query = query.where(customers.c.id > after)
        return [_customer(r) for r in self.conn.execute(query).mappings()]

    def add_account(self, account: CustomerAccount) -> None:
        self.conn.execute(
            insert(customer_accounts).values(
                id=account.id, client_id=account.client_id, customer_id=account.customer_id,
                asset=account.asset, ledger_account_id=account.ledger_account_id,
                metadata=account.metadata, created_at=account.created_at,
            )
        )  # fmt: skip

    def account(self, account_id: str, tenant_id: str | None) -> CustomerAccount | None:
        query = select(customer_accounts).where(customer_accounts.c.id == account_id)
        if tenant_id is not None:
            query = query.where(customer_accounts.c.client_id == tenant_id)
        row = self.conn.execute(query).mappings().first()
        return _account(row) if row else None

    def account_of_ledger_account(self, ledger_account_id: str) -> CustomerAccount | None:
        """The customer account a ledger account backs (any tenant: platform-internal)."""
        query = select(customer_accounts).where(
            customer_accounts.c.ledger_account_id == ledger_account_id
        )
        row = self.conn.execute(query).mappings().first()
        return _account(row) if row else None

    def accounts(self, account_ids: list[str], tenant_id: str | None) -> list[CustomerAccount]:
        query = select(customer_accounts).where(customer_accounts.c.id.in_(account_ids))
        if tenant_id is not None:
            query = query.where(customer_accounts.c.client_id == tenant_id)
        return [_account(row) for row in self.conn.execute(query).mappings()]

    def list_accounts(
        self, tenant_id: str | None, customer_id: str | None, after: str | None, limit: int
    ) -> list[CustomerAccount]:
        query = select(customer_accounts).order_by(customer_accounts.c.id).limit(limit)
        filters: list[Any] = []
        if tenant_id is not None:
            filters.append(customer_accounts.c.client_id == tenant_id)
        if customer_id is not None:
            filters.append(customer_accounts.c.customer_id == customer_id)
        if after is not None:
            filters.append(customer_accounts.c.id > after)
        if filters:
            query = query.where(and_(*filters))
        return [_account(r) for r in self.conn.execute(query).mappings()]
