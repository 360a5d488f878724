"""PIS endpoints for standing orders: /v1/periodic-payments/{product}, their authorisations and
cancellation authorisations (embedded, redirect or decoupled SCA, chosen as for single payments),
in the shapes of NextGenPSD2 1.3.11."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from twinrail.openbanking.domain.certificates import TppCertificate
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.sandbox.bank.domain.accounts import format_amount
from twinrail.sandbox.bank.domain.authorisation import Authorisation, ScaApproach
from twinrail.sandbox.bank.domain.payments import TransactionStatus
from twinrail.sandbox.bank.domain.periodic import PeriodicPayment
from twinrail.sandbox.bank.http.headers import json_body, psu_id, psu_ip_address, require_request_id
from twinrail.sandbox.bank.http.sca_links import add_sca_links, sca_request, sca_start_json
from twinrail.sandbox.bank.http.views import authorisation_json, href
from twinrail.sandbox.bank.service.periodic_service import (
    ORDER,
    ORDER_CANCELLATION,
    PeriodicAuthKind,
    PeriodicPaymentService,
)

__all__ = ["router", "periodic_path", "periodic_json"]

router = APIRouter(prefix="/v1", tags=["PIS"])
_EMBEDDED = {"ASPSP-SCA-Approach": "EMBEDDED"}


def _pis_tpp(request: Request) -> TppCertificate:
    # The certificate first: nothing about a request matters until we know who sent it.
    tpp = request.app.state.authenticator.authenticate(request, Psd2Role.PSP_PI)
    require_request_id(request)
    return tpp  # type: ignore[no-any-return]


def _orders(request: Request) -> PeriodicPaymentService:
    return request.app.state.periodic_payments  # type: ignore[no-any-return]


PisTpp = Annotated[TppCertificate, Depends(_pis_tpp)]
Orders = Annotated[PeriodicPaymentService, Depends(_orders)]


def periodic_path(product: str, payment_id: str) -> str:
    """The standing order's path."""
    return f"/v1/periodic-payments/{product}/{payment_id}"


def _json(request: Request, body: Any, status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(
        body, status_code=status, headers={"X-Request-ID": require_request_id(request), **headers}
    )


def _created_json(order: PeriodicPayment) -> dict[str, Any]:
    base = periodic_path(order.request.product.value, order.payment_id)
    links = {"self": href(base), "status": href(f"{base}/status")}
    if order.status is TransactionStatus.RCVD:
        links["startAuthorisationWithPsuAuthentication"] = href(f"{base}/authorisations")
    body: dict[str, Any] = {
        "transactionStatus": order.status.value,
        "paymentId": order.payment_id,
        "_links": links,
    }
    if order.reject_reason is not None:
        body["psuMessage"] = order.reject_reason.text
    return body


def periodic_json(order: PeriodicPayment) -> dict[str, Any]:
    """periodicPaymentInitiationWithStatusResponse: the initiation, its schedule and status."""
    request = order.request
    body: dict[str, Any] = {}
    if request.end_to_end_id:
        body["endToEndIdentification"] = request.end_to_end_id
    body.update(
        debtorAccount={"iban": request.debtor_iban, "currency": request.currency},
        instructedAmount={"currency": request.currency, "amount": format_amount(request.amount)},
        creditorAccount={"iban": request.creditor_iban},
        creditorName=request.creditor_name,
    )
    if request.remittance:
        body["remittanceInformationUnstructured"] = request.remittance
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
    out, approach = _created_json(order), _EMBEDDED
    if auth is not None:
        status_path = f"{location}/authorisations/{auth.authorisation_id}"
        out = add_sca_links(request, out, auth, status_path)
        approach = {"ASPSP-SCA-Approach": auth.sca_approach.value}
    return _json(request, out, 201, Location=location, **approach)


@router.get("/periodic-payments/{product}/{payment_id}")
def get_periodic_payment(
    product: str, payment_id: str, request: Request, tpp: PisTpp, orders: Orders
) -> Response:
    return _json(request, periodic_json(orders.payment(tpp.tpp_id, product, payment_id)))


@router.get("/periodic-payments/{product}/{payment_id}/status")
def get_periodic_payment_status(
    product: str, payment_id: str, request: Request, tpp: PisTpp, orders: Orders
) -> Response:
    return _json(request, _status_json(orders.payment(tpp.tpp_id, product, payment_id)))


@router.delete("/periodic-payments/{product}/{payment_id}")
def cancel_periodic_payment(
    product: str, payment_id: str, request: Request, tpp: PisTpp, orders: Orders
) -> Response:
    order = orders.cancel(tpp.tpp_id, product, payment_id)
    if order.status is TransactionStatus.CANC:
        return Response(status_code=204, headers={"X-Request-ID": require_request_id(request)})
    base = periodic_path(product, payment_id)
    body = {
        "transactionStatus": order.status.value,
        "_links": {
            "self": href(base),
            "status": href(f"{base}/status"),
            "startAuthorisationWithPsuAuthentication": href(f"{base}/cancellation-authorisations"),
        },
    }
    return _json(request, body, 202, **_EMBEDDED)


def _auth_body(
    auth: Authorisation, product: str, segment: str, *, created: bool = False
) -> dict[str, Any]:
    parent = periodic_path(product, auth.resource_id)
    body = authorisation_json(auth, created=created, parent=parent)
    if segment != "authorisations":
        for link in body["_links"].values():
            link["href"] = link["href"].replace("/authorisations/", f"/{segment}/")
    return body


def _authorisation_routes(segment: str, kind: PeriodicAuthKind) -> None:
    """Start, list, read and update one kind of authorisation under `.../{segment}`."""
    base = "/periodic-payments/{product}/{payment_id}/" + segment

    async def start(
        product: str, payment_id: str, request: Request, tpp: PisTpp, orders: Orders
    ) -> Response:
        body = await json_body(request, allow_empty=True)
        auth = orders.start_authorisation(
            tpp.tpp_id, product, payment_id, psu_id(request), body, kind, sca_request(request)
        )
        location = f"{periodic_path(product, payment_id)}/{segment}/{auth.authorisation_id}"
        out = _auth_body(auth, product, segment, created=True)
        if auth.sca_approach is not ScaApproach.EMBEDDED:
            out = sca_start_json(request, auth, location)
        approach = {"ASPSP-SCA-Approach": auth.sca_approach.value}
        return _json(request, out, 201, Location=location, **approach)

    def listing(
        product: str, payment_id: str, request: Request, tpp: PisTpp, orders: Orders
    ) -> Response:
        auths = orders.authorisations(tpp.tpp_id, product, payment_id, kind)
        return _json(request, {"authorisationIds": [a.authorisation_id for a in auths]})

    def sca_status(
        product: str, payment_id: str, authorisation_id: str, request: Request, tpp: PisTpp,
        orders: Orders,
    ) -> Response:  # fmt: skip
        auth = orders.authorisation(tpp.tpp_id, product, payment_id, authorisation_id, kind)
        return _json(request, {"scaStatus": auth.sca_status.value})

    async def update(
        product: str, payment_id: str, authorisation_id: str, request: Request, tpp: PisTpp,
        orders: Orders,
    ) -> Response:  # fmt: skip
        body = await json_body(request)
        auth = orders.update_authorisation(
            tpp.tpp_id, product, payment_id, authorisation_id, psu_id(request), body, kind
        )
        return _json(request, _auth_body(auth, product, segment), 200, **_EMBEDDED)

    name = kind.replace("-", "_")
    router.add_api_route(base, start, methods=["POST"], name=f"start_{name}_authorisation")
    router.add_api_route(base, listing, methods=["GET"], name=f"list_{name}_authorisations")
    item = base + "/{authorisation_id}"
    router.add_api_route(item, sca_status, methods=["GET"], name=f"get_{name}_sca_status")
    router.add_api_route(item, update, methods=["PUT"], name=f"update_{name}_authorisation")


_authorisation_routes("authorisations", ORDER)
_authorisation_routes("cancellation-authorisations", ORDER_CANCELLATION)
