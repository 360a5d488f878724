"""What the PIS endpoints of single payments and of standing orders share: the PSP_PI check, the
answers to an initiation and to a cancellation, and the routes of one kind of authorisation
(start, list, read, update) under a payment resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request, Response

from twinrail.openbanking.domain.certificates import TppCertificate
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.sandbox.bank.domain.authorisation import Authorisation, ScaApproach
from twinrail.sandbox.bank.domain.payments import TransactionStatus
from twinrail.sandbox.bank.http.headers import (
    json_body,
    json_response,
    psu_id,
    require_request_id,
    tpp_with,
)
from twinrail.sandbox.bank.http.payment_views import Initiated, cancellation_started_json
from twinrail.sandbox.bank.http.sca_links import add_sca_links, sca_request, sca_start_json
from twinrail.sandbox.bank.http.views import authorisation_json
from twinrail.sandbox.bank.service.sca_steps import ScaRequest

__all__ = [
    "PisTpp",
    "EMBEDDED",
    "AuthorisingService",
    "initiation_response",
    "cancellation_response",
    "add_authorisation_routes",
]


def _pis_tpp(request: Request) -> TppCertificate:
    return tpp_with(request, Psd2Role.PSP_PI)


PisTpp = Annotated[TppCertificate, Depends(_pis_tpp)]

EMBEDDED = {"ASPSP-SCA-Approach": "EMBEDDED"}


class AuthorisingService(Protocol):
    """The authorisation operations the payment and the periodic payment services both offer."""

    def start_authorisation(
        self, tpp_id: str, product: str, payment_id: str, psu_id: str | None, body: Any,
        kind: Any, sca: ScaRequest | None,
    ) -> Authorisation: ...  # fmt: skip

    def authorisations(
        self, tpp_id: str, product: str, payment_id: str, kind: Any
    ) -> list[Authorisation]: ...

    def authorisation(
        self, tpp_id: str, product: str, payment_id: str, authorisation_id: str, kind: Any
    ) -> Authorisation: ...

    def update_authorisation(
        self, tpp_id: str, product: str, payment_id: str, authorisation_id: str,
        psu_id: str | None, body: Any, kind: Any,
    ) -> Authorisation: ...  # fmt: skip


def initiation_response(
    request: Request, body: dict[str, Any], location: str, auth: Authorisation | None
) -> Response:
    """The 201 of an initiation at `location`, with the authorisation the bank opened at once
    (redirect, decoupled) if any; embedded otherwise."""
    approach = EMBEDDED
    if auth is not None:
        status_path = f"{location}/authorisations/{auth.authorisation_id}"
        body = add_sca_links(request, body, auth, status_path)
        approach = {"ASPSP-SCA-Approach": auth.sca_approach.value}
    return json_response(request, body, 201, Location=location, **approach)


def cancellation_response(request: Request, initiated: Initiated, base: str) -> Response:
    """204 once cancelled; 202 when authorised and not yet executed: the PSU must authorise the
    cancellation."""
    if initiated.status is TransactionStatus.CANC:
        return Response(status_code=204, headers={"X-Request-ID": require_request_id(request)})
    return json_response(request, cancellation_started_json(initiated, base), 202, **EMBEDDED)


def add_authorisation_routes(
    router: APIRouter,
    *,
    resource: str,
    path_of: Callable[[str, str], str],
    service: Callable[[Request], AuthorisingService],
    segment: str,
    kind: str,
    name: str,
) -> None:
    """Start, list, read and update the authorisations of `kind` under
    `{resource}/{product}/{payment_id}/{segment}`; `path_of(product, id)` is the resource's path."""
    base = resource + "/{product}/{payment_id}/" + segment

    def auth_body(auth: Authorisation, product: str, *, created: bool = False) -> dict[str, Any]:
        # authorisation_json appends "/authorisations/{id}"; a cancellation lives one level apart.
        body = authorisation_json(auth, created=created, parent=path_of(product, auth.resource_id))
        if segment != "authorisations":
            for link in body["_links"].values():
                link["href"] = link["href"].replace("/authorisations/", f"/{segment}/")
        return body

    async def start(
        product: str, payment_id: str, request: Request, tpp: PisTpp,
        pis: AuthorisingService = Depends(service),
    ) -> Response:  # fmt: skip
        body = await json_body(request, allow_empty=True)
        sca = sca_request(request)
        auth = pis.start_authorisation(
            tpp.tpp_id, product, payment_id, psu_id(request), body, kind, sca
        )
        location = f"{path_of(product, payment_id)}/{segment}/{auth.authorisation_id}"
        out = auth_body(auth, product, created=True)
        if auth.sca_approach is not ScaApproach.EMBEDDED:
            out = sca_start_json(request, auth, location)
        approach = {"ASPSP-SCA-Approach": auth.sca_approach.value}
        return json_response(request, out, 201, Location=location, **approach)

    def listing(
        product: str, payment_id: str, request: Request, tpp: PisTpp,
        pis: AuthorisingService = Depends(service),
    ) -> Response:  # fmt: skip
        auths = pis.authorisations(tpp.tpp_id, product, payment_id, kind)
        return json_response(request, {"authorisationIds": [a.authorisation_id for a in auths]})

    def sca_status(
        product: str, payment_id: str, authorisation_id: str, request: Request, tpp: PisTpp,
        pis: AuthorisingService = Depends(service),
    ) -> Response:  # fmt: skip
        auth = pis.authorisation(tpp.tpp_id, product, payment_id, authorisation_id, kind)
        return json_response(request, {"scaStatus": auth.sca_status.value})

    async def update(
        product: str, payment_id: str, authorisation_id: str, request: Request, tpp: PisTpp,
        pis: AuthorisingService = Depends(service),
    ) -> Response:  # fmt: skip
        body = await json_body(request)
        auth = pis.update_authorisation(
            tpp.tpp_id, product, payment_id, authorisation_id, psu_id(request), body, kind
        )
        return json_response(request, auth_body(auth, product), 200, **EMBEDDED)

    router.add_api_route(base, start, methods=["POST"], name=f"start_{name}_authorisation")
    router.add_api_route(base, listing, methods=["GET"], name=f"list_{name}_authorisations")
    item = base + "/{authorisation_id}"
    router.add_api_route(item, sca_status, methods=["GET"], name=f"get_{name}_sca_status")
    router.add_api_route(item, update, methods=["PUT"], name=f"update_{name}_authorisation")
