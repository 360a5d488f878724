"""Payment orders: one resource for every movement of money, driven by the pipeline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from twinrail.api.deps import (
    CurrentPrincipal,
    PageCursor,
    PageLimit,
    ServicesDep,
    needs,
)
from twinrail.api.domain.cursor import encode_cursor
from twinrail.api.domain.model import CustomerAccount
from twinrail.api.domain.roles import Permission
from twinrail.api.idempotent_route import IdempotentRoute
from twinrail.api.schemas import PaymentOrderCreate, PaymentOrderPage, PaymentOrderPublic
from twinrail.api.service.ids import new_id
from twinrail.pipeline.domain.errors import InvalidOrder
from twinrail.pipeline.domain.model import OrderType, PaymentOrder
from twinrail.pipeline.service.payment_orders import CreatePaymentOrder

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/payment-orders", tags=["payment orders"], route_class=IdempotentRoute
)


def order_public(order: PaymentOrder) -> PaymentOrderPublic:
    return PaymentOrderPublic(
        id=order.id, type=order.type, state=order.state, state_reason=order.reason,
        amount=str(order.amount), asset=order.asset, customer_id=order.customer_id,
        source_account_id=order.metadata.get("source_account_id", ""),
        destination_account_id=order.metadata.get("destination_account_id"),
        reference=order.reference, created_at=order.created_at, updated_at=order.updated_at,
    )  # fmt: skip


@router.post(
    "",
    response_model=PaymentOrderPublic,
    status_code=status.HTTP_201_CREATED,
    **needs(Permission.PAYMENT_ORDERS_WRITE),
)
def create_payment_order(
    body: PaymentOrderCreate, principal: CurrentPrincipal, services: ServicesDep
) -> PaymentOrderPublic:
    """Create an order; an internal transfer runs to `completed` (or `rejected` / `failed`).

    Orders on other rails stop in `processing` (or `in_review`) and move on as the rail answers;
    follow them by polling or by webhooks.
    """
    services.payment_orders.rails.rail_for(body.type)  # "rail not enabled" before anything else
    internal = body.type is OrderType.INTERNAL_TRANSFER
    if internal and body.destination_account_id is None:
        raise InvalidOrder("destination_account_id is required for an internal transfer")
    ids = [body.source_account_id]
    if internal and body.destination_account_id is not None:
        ids.append(body.destination_account_id)
    source, *destination = services.customers.accounts_by_id(principal, *ids)
    if source.asset != body.asset:
        raise InvalidOrder("the source account must hold the order's asset", asset=body.asset)
    destination_ledger_account, metadata = _destination(
        body, destination[0] if destination else None
    )
    metadata["source_account_id"] = source.id
    order = services.payment_orders.create(
        CreatePaymentOrder(
            order_id=new_id("po"), client_id=source.client_id, customer_id=source.customer_id,
            type=body.type, asset=body.asset, amount=int(body.amount),
            source_account=source.ledger_account_id,
            destination_account=destination_ledger_account, reference=body.reference,
            metadata=metadata,
        )
    )  # fmt: skip
    return order_public(order)


def _destination(
    body: PaymentOrderCreate, destination: CustomerAccount | None
) -> tuple[str, dict[str, Any]]:
    """The ledger account money goes to (if ours) and what the order keeps about where it goes."""
    party = body.counterparty
    metadata: dict[str, Any] = {}
    if party is not None:
        metadata["counterparty"] = party.model_dump(exclude_none=True)
    if body.travel_rule is not None:
        metadata["travel_rule"] = body.travel_rule
    if destination is not None:  # an internal transfer
        if destination.asset != body.asset:
            raise InvalidOrder("both accounts must hold the order's asset", asset=body.asset)
        metadata["destination_account_id"] = destination.id
        return destination.ledger_account_id, metadata
    if body.type is OrderType.CRYPTO_WITHDRAWAL:
        if party is None or party.wallet_address is None or party.chain_id is None:
            raise InvalidOrder("a crypto withdrawal needs counterparty.wallet_address and chain_id")
        metadata.update(chain_id=party.chain_id, to_address=party.wallet_address)
        return "", metadata  # the chain rail books against its own hot wallet account
    if body.type is OrderType.BANK_PAYMENT and (party is None or party.iban is None):
        raise InvalidOrder("a bank payment needs counterparty.name and counterparty.iban")
    return "", metadata


@router.get("", response_model=PaymentOrderPage, **needs(Permission.PAYMENT_ORDERS_READ))
def list_payment_orders(
    principal: CurrentPrincipal, services: ServicesDep, cursor: PageCursor, limit: PageLimit = 50
) -> PaymentOrderPage:
    """The caller's orders (every tenant's for staff), oldest first."""
    found = services.payment_orders.orders(principal.tenant_id, cursor, limit + 1)
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].id) if len(found) > limit else None
    return PaymentOrderPage(data=[order_public(o) for o in page], next_cursor=next_cursor)


@router.get(
    "/{order_id}", response_model=PaymentOrderPublic, **needs(Permission.PAYMENT_ORDERS_READ)
)
def get_payment_order(
    order_id: str, principal: CurrentPrincipal, services: ServicesDep
) -> PaymentOrderPublic:
    """One order; another tenant's order answers 404."""
    return order_public(services.payment_orders.get(order_id, principal.tenant_id))


@router.post(
    "/{order_id}/cancel",
    response_model=PaymentOrderPublic,
    **needs(Permission.PAYMENT_ORDERS_CANCEL),
)
def cancel_payment_order(
    order_id: str, principal: CurrentPrincipal, services: ServicesDep
) -> PaymentOrderPublic:
    """Cancel an order its rail has not accepted yet; held funds are released."""
    order = services.payment_orders.cancel(
        order_id, principal.tenant_id, actor=f"client:{principal.client_id}"
    )
    return order_public(order)
