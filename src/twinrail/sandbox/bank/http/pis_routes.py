"""PIS endpoints of NextGenPSD2 1.3.11: single payments, their authorisations and their
cancellation authorisations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from twinrail.openbanking.domain.certificates import TppCertificate
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.sandbox.bank.domain.authorisation import Authorisation, ScaApproach
from twinrail.sandbox.bank.domain.payments import TransactionStatus
from twinrail.sandbox.bank.http.headers import json_body, psu_id, psu_ip_address, require_request_id
from twinrail.sandbox.bank.http.payment_views import (
    cancellation_started_json,
    payment_created_json,
    payment_json,
    payment_path,
    payment_status_json,
)
from twinrail.sandbox.bank.http.sca_links import add_sca_links, sca_request, sca_start_json
from twinrail.sandbox.bank.http.views import authorisation_json
from twinrail.sandbox.bank.service.payment_service import (
    CANCELLATION,
    PAYMENT,
    AuthKind,
    PaymentService,
)

__all__ = ["router", "tpp_with"]

router = APIRouter(prefix="/v1", tags=["PIS"])


def tpp_with(request: Request, role: Psd2Role) -> TppCertificate:
    """The caller's QWAC checked for `role`, then the mandatory X-Request-ID."""
    # The certificate first: nothing about a request matters until we know who sent it.
    tpp = request.app.state.authenticator.authenticate(request, role)
    require_request_id(request)
    return tpp  # type: ignore[no-any-return]


def _pis_tpp(request: Request) -> TppCertificate:
    return tpp_with(request, Psd2Role.PSP_PI)


def _payments(request: Request) -> PaymentService:
    return request.app.state.payments  # type: ignore[no-any-return]


PisTpp = Annotated[TppCertificate, Depends(_pis_tpp)]
Payments = Annotated[PaymentService, Depends(_payments)]

_EMBEDDED = {"ASPSP-SCA-Approach": "EMBEDDED"}


def _json(request: Request, body: Any, status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(
        body, status_code=status, headers={"X-Request-ID": require_request_id(request), **headers}
    )


def _auth_body(
    auth: Authorisation, product: str, segment: str, *, created: bool = False
) -> dict[str, Any]:
    # authorisation_json appends "/authorisations/{id}"; a cancellation lives one level apart.
    body = authorisation_json(auth, created=created, parent=payment_path(product, auth.resource_id))
    if segment != "authorisations":
        for link in body["_links"].values():
            link["href"] = link["href"].replace("/authorisations/", f"/{segment}/")
    return body


@router.post("/payments/{product}")
async def initiate_payment(product: str, request: Request, tpp: PisTpp, pis: Payments) -> Response:
    psu_ip_address(request, required=True)
    body = await json_body(request)
    sca = sca_request(request)
    payment, auth = pis.initiate_with_sca(tpp.tpp_id, product, body, psu_id(request), sca)
    location = payment_path(product, payment.payment_id)
    out = payment_created_json(payment)
    approach = _EMBEDDED
    if auth is not None:
        status_path = f"{location}/authorisations/{auth.authorisation_id}"
        out = add_sca_links(request, out, auth, status_path)
        approach = {"ASPSP-SCA-Approach": auth.sca_approach.value}
    return _json(request, out, 201, Location=location, **approach)


@router.get("/payments/{product}/{payment_id}")
def get_payment(
    product: str, payment_id: str, request: Request, tpp: PisTpp, pis: Payments
) -> Response:
    return _json(request, payment_json(pis.payment(tpp.tpp_id, product, payment_id)))


@router.get("/payments/{product}/{payment_id}/status")
def get_payment_status(
    product: str, payment_id: str, request: Request, tpp: PisTpp, pis: Payments
) -> Response:
    return _json(request, payment_status_json(pis.payment(tpp.tpp_id, product, payment_id)))


@router.delete("/payments/{product}/{payment_id}")
def cancel_payment(
    product: str, payment_id: str, request: Request, tpp: PisTpp, pis: Payments
) -> Response:
    payment = pis.cancel(tpp.tpp_id, product, payment_id)
    if payment.status is TransactionStatus.CANC:
        return Response(status_code=204, headers={"X-Request-ID": require_request_id(request)})
    # Authorised and not yet executed: the PSU must authorise the cancellation (202).
    return _json(request, cancellation_started_json(payment), 202, **_EMBEDDED)


def _authorisation_routes(segment: str, kind: AuthKind) -> None:
    """Start, list, read and update one kind of authorisation under `.../{segment}`."""
    base = "/payments/{product}/{payment_id}/" + segment

    async def start(
        product: str, payment_id: str, request: Request, tpp: PisTpp, pis: Payments
    ) -> Response:
        body = await json_body(request, allow_empty=True)
        sca = sca_request(request)
        auth = pis.start_authorisation(
            tpp.tpp_id, product, payment_id, psu_id(request), body, kind, sca
        )
        location = f"{payment_path(product, payment_id)}/{segment}/{auth.authorisation_id}"
        body_out = _auth_body(auth, product, segment, created=True)
        if auth.sca_approach is not ScaApproach.EMBEDDED:
            body_out = sca_start_json(request, auth, location)
        approach = {"ASPSP-SCA-Approach": auth.sca_approach.value}
        return _json(request, body_out, 201, Location=location, **approach)

    def listing(
        product: str, payment_id: str, request: Request, tpp: PisTpp, pis: Payments
    ) -> Response:
        auths = pis.authorisations(tpp.tpp_id, product, payment_id, kind)
        return _json(request, {"authorisationIds": [a.authorisation_id for a in auths]})

    def sca_status(
        product: str,
        payment_id: str,
        authorisation_id: str,
        request: Request,
        tpp: PisTpp,
        pis: Payments,
    ) -> Response:
        auth = pis.authorisation(tpp.tpp_id, product, payment_id, authorisation_id, kind)
        return _json(request, {"scaStatus": auth.sca_status.value})

    async def update(
        product: str,
        payment_id: str,
        authorisation_id: str,
        request: Request,
        tpp: PisTpp,
        pis: Payments,
    ) -> Response:
        body = await json_body(request)
        auth = pis.update_authorisation(
            tpp.tpp_id, product, payment_id, authorisation_id, psu_id(request), body, kind
        )
        return _json(request, _auth_body(auth, product, segment), 200, **_EMBEDDED)

    router.add_api_route(base, start, methods=["POST"], name=f"start_{kind}_authorisation")
    router.add_api_route(base, listing, methods=["GET"], name=f"list_{kind}_authorisations")
    item = base + "/{authorisation_id}"
    router.add_api_route(item, sca_status, methods=["GET"], name=f"get_{kind}_sca_status")
    router.add_api_route(item, update, methods=["PUT"], name=f"update_{kind}_authorisation")


_authorisation_routes("authorisations", PAYMENT)
_authorisation_routes("cancellation-authorisations", CANCELLATION)
