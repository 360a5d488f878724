"""PIS endpoints of NextGenPSD2 1.3.11: single payments, their authorisations and their
cancellation authorisations (the routes shared with standing orders live in pis_common)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from twinrail.sandbox.bank.http.headers import json_body, json_response, psu_id, psu_ip_address
from twinrail.sandbox.bank.http.payment_views import (
    payment_created_json,
    payment_json,
    payment_path,
    payment_status_json,
)
from twinrail.sandbox.bank.http.pis_common import (
    PisTpp,
    add_authorisation_routes,
    cancellation_response,
    initiation_response,
)
from twinrail.sandbox.bank.http.sca_links import sca_request
from twinrail.sandbox.bank.service.payment_service import (
    CANCELLATION,
    PAYMENT,
    PaymentService,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["PIS"])


def _payments(request: Request) -> PaymentService:
    return request.app.state.payments  # type: ignore[no-any-return]


Payments = Annotated[PaymentService, Depends(_payments)]


@router.post("/payments/{product}")
async def initiate_payment(product: str, request: Request, tpp: PisTpp, pis: Payments) -> Response:
    psu_ip_address(request, required=True)
    body = await json_body(request)
    sca = sca_request(request)
    payment, auth = pis.initiate_with_sca(tpp.tpp_id, product, body, psu_id(request), sca)
    location = payment_path(product, payment.payment_id)
    return initiation_response(request, payment_created_json(payment), location, auth)


@router.get("/payments/{product}/{payment_id}")
def get_payment(
    product: str, payment_id: str, request: Request, tpp: PisTpp, pis: Payments
) -> Response:
    return json_response(request, payment_json(pis.payment(tpp.tpp_id, product, payment_id)))


@router.get("/payments/{product}/{payment_id}/status")
def get_payment_status(
    product: str, payment_id: str, request: Request, tpp: PisTpp, pis: Payments
) -> Response:
    payment = pis.payment(tpp.tpp_id, product, payment_id)
    return json_response(request, payment_status_json(payment))


@router.delete("/payments/{product}/{payment_id}")
def cancel_payment(
    product: str, payment_id: str, request: Request, tpp: PisTpp, pis: Payments
) -> Response:
    payment = pis.cancel(tpp.tpp_id, product, payment_id)
    return cancellation_response(request, payment, payment_path(product, payment_id))


for _segment, _kind in (("authorisations", PAYMENT), ("cancellation-authorisations", CANCELLATION)):
    add_authorisation_routes(
        router, resource="/payments", path_of=payment_path, service=_payments,
        segment=_segment, kind=_kind, name=_kind,
    )  # fmt: skip
