"""Customer accounts backed by ledger accounts: open, list, balance, statement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from twinrail.api.deps import CurrentPrincipal, PageCursor, PageLimit, ServicesDep, needs
from twinrail.api.domain.cursor import encode_cursor
from twinrail.api.domain.errors import InvalidCursor
from twinrail.api.domain.model import CustomerAccount
from twinrail.api.domain.roles import Permission
from twinrail.api.idempotent_route import IdempotentRoute
from twinrail.api.schemas import (
    AccountCreate,
    AccountPage,
    AccountPublic,
    BalancePublic,
    StatementLinePublic,
    StatementPublic,
)
from twinrail.api.service.customers import OpenCustomerAccount
from twinrail.ledger.domain.errors import InvalidTransfer

__all__ = ["router"]

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], route_class=IdempotentRoute)


def account_public(account: CustomerAccount) -> AccountPublic:
    return AccountPublic(
        id=account.id, customer_id=account.customer_id, asset=account.asset,
        metadata=account.metadata, created_at=account.created_at,
    )  # fmt: skip


@router.post(
    "",
    response_model=AccountPublic,
    status_code=status.HTTP_201_CREATED,
    **needs(Permission.ACCOUNTS_WRITE),
)
def open_account(
    body: AccountCreate, principal: CurrentPrincipal, services: ServicesDep
) -> AccountPublic:
    """Open an account in `asset` for one of the caller's customers."""
    cmd = OpenCustomerAccount(body.customer_id, body.asset, dict(body.metadata))
    return account_public(services.customers.open_account(principal, cmd))


@router.get("", response_model=AccountPage, **needs(Permission.ACCOUNTS_READ))
def list_accounts(
    principal: CurrentPrincipal,
    services: ServicesDep,
    cursor: PageCursor,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: PageLimit = 50,
) -> AccountPage:
    """The caller's accounts, optionally of one customer, oldest first."""
    found = services.customers.accounts(principal, customer_id, cursor, limit + 1)
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].id) if len(found) > limit else None
    return AccountPage(data=[account_public(a) for a in page], next_cursor=next_cursor)


@router.get("/{account_id}", response_model=AccountPublic, **needs(Permission.ACCOUNTS_READ))
def get_account(
    account_id: str, principal: CurrentPrincipal, services: ServicesDep
) -> AccountPublic:
    """One account; another tenant's account answers 404."""
    return account_public(services.customers.account(principal, account_id))


@router.get(
    "/{account_id}/balance", response_model=BalancePublic, **needs(Permission.ACCOUNTS_READ)
)
def get_balance(
    account_id: str, principal: CurrentPrincipal, services: ServicesDep
) -> BalancePublic:
    """Posted, pending and available balance, in minor units."""
    account, balance = services.customers.balance(principal, account_id)
    return BalancePublic(
        account_id=account.id, asset=account.asset, posted=str(balance.posted),
        pending=str(balance.pending), available=str(balance.available),
    )  # fmt: skip


@router.get(
    "/{account_id}/statement", response_model=StatementPublic, **needs(Permission.ACCOUNTS_READ)
)
def get_statement(
    account_id: str,
    principal: CurrentPrincipal,
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: PageLimit = 50,
) -> StatementPublic:
    """Posted entries with the running balance after each, a page at a time."""
    try:
        account, page = services.customers.statement(principal, account_id, cursor, limit)
    except InvalidTransfer as exc:  # the ledger's cursor check; say it in the API's words
        raise InvalidCursor("the cursor is not valid") from exc
    lines = [
        StatementLinePublic(
            transfer_id=line.entry.transfer_id,
            side=line.entry.side.value,
            amount=str(line.entry.amount),
            balance_after=str(line.balance_after),
            effective_at=line.entry.effective_at,
        )  # fmt: skip
        for line in page.lines
    ]
    return StatementPublic(
        account_id=account.id, asset=account.asset, opening_balance=str(page.opening_balance),
        lines=lines, next_cursor=page.next_cursor,
    )  # fmt: skip
