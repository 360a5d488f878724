"""Customers of the calling client: individuals and businesses."""

from __future__ import annotations

from fastapi import APIRouter, status

from twinrail.api.deps import CurrentPrincipal, PageCursor, PageLimit, ServicesDep, needs
from twinrail.api.domain.cursor import encode_cursor
from twinrail.api.domain.model import Customer
from twinrail.api.domain.roles import Permission
from twinrail.api.idempotent_route import IdempotentRoute
from twinrail.api.schemas import CustomerCreate, CustomerPage, CustomerPublic
from twinrail.api.service.customers import CreateCustomer

__all__ = ["router", "customer_public"]

router = APIRouter(prefix="/v1/customers", tags=["customers"], route_class=IdempotentRoute)


def customer_public(customer: Customer) -> CustomerPublic:
    d = customer.details
    return CustomerPublic(
        id=customer.id, kind=customer.kind, name=d.get("name", ""), email=d.get("email"),
        country=d.get("country"), registration_number=d.get("registration_number"),
        external_ref=customer.external_ref, created_at=customer.created_at,
    )  # fmt: skip


@router.post(
    "",
    response_model=CustomerPublic,
    status_code=status.HTTP_201_CREATED,
    **needs(Permission.CUSTOMERS_WRITE),
)
def create_customer(
    body: CustomerCreate, principal: CurrentPrincipal, services: ServicesDep
) -> CustomerPublic:
    """Create a customer of the calling client."""
    details = body.model_dump(
        exclude={"kind", "external_ref"}, exclude_none=True
    )  # personal data, kept out of logs and events
    customer = services.customers.create_customer(
        principal, CreateCustomer(body.kind, details, body.external_ref)
    )
    return customer_public(customer)


@router.get("", response_model=CustomerPage, **needs(Permission.CUSTOMERS_READ))
def list_customers(
    principal: CurrentPrincipal, services: ServicesDep, cursor: PageCursor, limit: PageLimit = 50
) -> CustomerPage:
    """The caller's customers (every tenant's for staff), oldest first."""
    found = services.customers.customers(principal, cursor, limit + 1)
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].id) if len(found) > limit else None
    return CustomerPage(data=[customer_public(c) for c in page], next_cursor=next_cursor)


@router.get("/{customer_id}", response_model=CustomerPublic, **needs(Permission.CUSTOMERS_READ))
def get_customer(
    customer_id: str, principal: CurrentPrincipal, services: ServicesDep
) -> CustomerPublic:
    """One customer; another tenant's customer answers 404."""
    return customer_public(services.customers.customer(principal, customer_id))
