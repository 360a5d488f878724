"""PIS endpoints for standing orders: /v1/periodic-payments/{product}, their authorisations and
cancellation authorisations (embedded, redirect or decoupled SCA, chosen as for single payments),
in the shapes of NextGenPSD2 1.3.11."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from twinrail.sandbox.bank.domain.periodic import PeriodicPayment
from twinrail.sandbox.bank.http.headers import json_body, json_response, psu_id, psu_ip_address
from twinrail.sandbox.bank.http.payment_views import created_json, initiation_json
from twinrail.sandbox.bank.http.pis_common import (
    PisTpp,
    add_authorisation_routes,
    cancellation_response,
    initiation_response,
)
from twinrail.sandbox.bank.http.sca_links import sca_request
from twinrail.sandbox.bank.service.periodic_service import (
    ORDER,
    ORDER_CANCELLATION,
    PeriodicPaymentService,
)

__all__ = ["router", "periodic_path", "periodic_json"]

router = APIRouter(prefix="/v1", tags=["PIS"])


def _orders(request: Request) -> PeriodicPaymentService:
    return request.app.state.periodic_payments  # type: ignore[no-any-return]


Orders = Annotated[PeriodicPaymentService, Depends(_orders)]


def periodic_path(product: str, payment_id: str) -> str:
    """The standing order's path."""
    return f"/v1/periodic-payments/{product}/{payment_id}"


def periodic_json(order: PeriodicPayment) -> dict[str, Any]:
    """periodicPaymentInitiationWithStatusResponse: the initiation, its schedule and status."""
    body = initiation_json(order.request)
    body.update(order.schedule.to_json())
    body["transactionStatus"] = order.status.value
    return body


def _status_json(order: PeriodicPayment) -> dict[str, Any]:
    body: dict[str, Any] = {"transactionStatus": order.status.value}
    if order.reject_reason is not None:
        body["psuMessage"] = order.reject_reason.text
    return body


@router.post("/periodic-payments/{product}")
async def initiate_periodic_payment(
    product: str, request: Request, tpp: PisTpp, orders: Orders
) -> Response:
    psu_ip_address(request, required=True)
    body = await json_body(request)
    sca = sca_request(request)
    order, auth = orders.initiate_with_sca(tpp.tpp_id, product, body, psu_id(request), sca)
    location = periodic_path(product, order.payment_id)
    return initiation_response(request, created_json(order, location), location, auth)


@router.get("/periodic-payments/{product}/{payment_id}")
def get_periodic_payment(
    product: str, payment_id: str, request: Request, tpp: PisTpp, orders: Orders
) -> Response:
    return json_response(request, periodic_json(orders.payment(tpp.tpp_id, product, payment_id)))


@router.get("/periodic-payments/{product}/{payment_id}/status")
def get_periodic_payment_status(
    product: str, payment_id: str, request: Request, tpp: PisTpp, orders: Orders
) -> Response:
    return json_response(request, _status_json(orders.payment(tpp.tpp_id, product, payment_id)))


@router.delete("/periodic-payments/{product}/{payment_id}")
def cancel_periodic_payment(
    product: str, payment_id: str, request: Request, tpp: PisTpp, orders: Orders
) -> Response:
    order = orders.cancel(tpp.tpp_id, product, payment_id)
    return cancellation_response(request, order, periodic_path(product, payment_id))


for _segment, _kind in (
    ("authorisations", ORDER),
    ("cancellation-authorisations", ORDER_CANCELLATION),
):
    add_authorisation_routes(
        router, resource="/periodic-payments", path_of=periodic_path, service=_orders,
        segment=_segment, kind=_kind, name=_kind.replace("-", "_"),
    )  # fmt: skip
