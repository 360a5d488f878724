"""Customers of a client and their accounts, each account backed by one ledger account.

Every read and write takes the caller's tenant (None for platform staff): a tenant never sees
another's rows, and an id that belongs to someone else reads exactly like an unknown id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from twinrail.api.domain.errors import ResourceNotFound
from twinrail.api.domain.model import Customer, CustomerAccount, CustomerKind, Principal
from twinrail.api.service.ids import new_id
from twinrail.api.store.api_store import ApiStore
from twinrail.ledger.domain.commands import OpenAccount
from twinrail.ledger.domain.model import Balance, Limits, Side
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.ledger.service.statements import StatementPage
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY, statement_reader
from twinrail.platform.uow import UnitOfWork

__all__ = ["CustomerService", "CreateCustomer", "OpenCustomerAccount", "CUSTOMER_FUNDS_CODE"]

CUSTOMER_FUNDS_CODE = "customer_funds"  # chart-of-accounts code of every customer account


@dataclass(frozen=True, slots=True)
class CreateCustomer:
    kind: CustomerKind
    details: dict[str, Any]
    external_ref: str | None = None


@dataclass(frozen=True, slots=True)
class OpenCustomerAccount:
    customer_id: str
    asset: str
    metadata: dict[str, Any]


class CustomerService:
    """Customers, accounts, balances and statements, confined to the caller's tenant."""

    def __init__(self, engine: Engine, ledger: LedgerService, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.ledger = ledger
        self.clock = clock

    def create_customer(self, principal: Principal, cmd: CreateCustomer) -> Customer:
        """Create a customer of the caller's tenant (only tenant-bound callers have one)."""
        tenant = _require_tenant(principal)
        customer = Customer(
            new_id("cus"), tenant, cmd.kind, cmd.details, cmd.external_ref, self.clock()
        )
        with self._uow(principal) as uow:
            ApiStore(uow.connection).add_customer(customer)
            # the audit trail names the customer, never their personal data
            uow.audit("api.create_customer", f"customer:{customer.id}", kind=cmd.kind.value)
            uow.commit()
        return customer

    def customer(self, principal: Principal, customer_id: str) -> Customer:
        with self._reader() as conn:
            found = ApiStore(conn).customer(customer_id, principal.tenant_id)
        if found is None:
            raise ResourceNotFound("no such customer", resource="customer")
        return found

    def customers(self, principal: Principal, after: str | None, limit: int) -> list[Customer]:
        with self._reader() as conn:
            return ApiStore(conn).list_customers(principal.tenant_id, after, limit)

    def open_account(self, principal: Principal, cmd: OpenCustomerAccount) -> CustomerAccount:
        """Open a ledger account for a customer, then record which customer it belongs to.

        The ledger account comes first, so a mapping never points at a missing ledger account;
        a crash in between leaves an unused ledger account, never a broken one.
        """
        customer = self.customer(principal, cmd.customer_id)
        account = CustomerAccount(
            new_id("acc"), customer.client_id, customer.id, cmd.asset,
            new_id("la"), self.clock(), cmd.metadata,
        )  # fmt: skip
        self.ledger.acting_as(f"client:{principal.client_id}").open_account(
            OpenAccount(
                id=account.ledger_account_id,
                asset=cmd.asset,
                code=CUSTOMER_FUNDS_CODE,
                name=f"customer account {account.id}",
                # the platform owes customers their funds: a liability, no overdraft
                normal_side=Side.CREDIT,
                limits=Limits(debits_must_not_exceed_credits=True),
                metadata={"customer_account_id": account.id, "client_id": customer.client_id},
            )
        )
        with self._uow(principal) as uow:
            ApiStore(uow.connection).add_account(account)
            uow.audit("api.open_account", f"account:{account.id}", asset=cmd.asset)
            uow.commit()
        return account

    def account(self, principal: Principal, account_id: str) -> CustomerAccount:
        with self._reader() as conn:
            found = ApiStore(conn).account(account_id, principal.tenant_id)
        if found is None:
            raise ResourceNotFound("no such account", resource="account")
        return found

    def accounts_by_id(self, principal: Principal, *account_ids: str) -> list[CustomerAccount]:
        """The caller's accounts in the order asked, in one read; 404 if any is not theirs."""
        with statement_reader(self.engine) as conn:
            found = {
                a.id: a for a in ApiStore(conn).accounts(list(account_ids), principal.tenant_id)
            }
        if any(account_id not in found for account_id in account_ids):
            raise ResourceNotFound("no such account", resource="account")
        return [found[account_id] for account_id in account_ids]

    def accounts(
        self, principal: Principal, customer_id: str | None, after: str | None, limit: int
    ) -> list[CustomerAccount]:
        if customer_id is not None:
            self.customer(principal, customer_id)  # 404 for another tenant's customer
        with self._reader() as conn:
            return ApiStore(conn).list_accounts(principal.tenant_id, customer_id, after, limit)

    def balance(self, principal: Principal, account_id: str) -> tuple[CustomerAccount, Balance]:
        account = self.account(principal, account_id)
        return account, self.ledger.balance(account.ledger_account_id)

    def statement(
        self, principal: Principal, account_id: str, cursor: str | None, limit: int
    ) -> tuple[CustomerAccount, StatementPage]:
        account = self.account(principal, account_id)
        page = self.ledger.statement(account.ledger_account_id, cursor=cursor, limit=limit)
        return account, page

    def _uow(self, principal: Principal) -> UnitOfWork:
        return UnitOfWork(self.engine, actor=f"client:{principal.client_id}", clock=self.clock)

    def _reader(self) -> Connection:
        return self.engine.connect().execution_options(**READ_ONLY)


def _require_tenant(principal: Principal) -> str:
    if principal.tenant_id is None:
        # staff roles never reach here through the API (RBAC); guard the service contract anyway
        raise ResourceNotFound("customers belong to a client tenant", resource="tenant")
    return principal.tenant_id
