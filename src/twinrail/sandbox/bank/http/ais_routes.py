"""AIS endpoints of NextGenPSD2 1.3.11: consents, their authorisations, and account data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from twinrail.openbanking.domain.certificates import TppCertificate
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.sandbox.bank.domain.authorisation import ScaApproach
from twinrail.sandbox.bank.domain.reports import parse_report_query
from twinrail.sandbox.bank.http.headers import (
    bool_query,
    consent_id,
    json_body,
    json_response,
    psu_id,
    psu_ip_address,
    require_request_id,
    tpp_with,
)
from twinrail.sandbox.bank.http.quirks import apply_report_quirks, shorten_valid_until
from twinrail.sandbox.bank.http.sca_links import add_sca_links, sca_request, sca_start_json
from twinrail.sandbox.bank.http.views import (
    account_json,
    authorisation_json,
    balances_json,
    consent_created_json,
    consent_json,
    report_json,
    transaction_json,
)
from twinrail.sandbox.bank.service.bank_service import AisRequest, BankService

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["AIS"])


def _ais_tpp(request: Request) -> TppCertificate:
    return tpp_with(request, Psd2Role.PSP_AI)


def _bank(request: Request) -> BankService:
    return request.app.state.bank  # type: ignore[no-any-return]


AisTpp = Annotated[TppCertificate, Depends(_ais_tpp)]
Bank = Annotated[BankService, Depends(_bank)]


def _ais_request(request: Request, tpp: TppCertificate) -> AisRequest:
    present = psu_ip_address(request, required=False) is not None
    return AisRequest(tpp.tpp_id, consent_id(request), psu_present=present)


@router.post("/consents")
async def create_consent(request: Request, tpp: AisTpp, bank: Bank) -> Response:
    psu_ip_address(request, required=True)
    lifetimes = request.app.state.profile.lifetimes
    body = shorten_valid_until(
        await json_body(request), lifetimes.consent_max_days, bank.clock().date()
    )
    consent, auth = bank.create_consent_with_sca(
        tpp.tpp_id, psu_id(request), body, sca_request(request)
    )
    location = f"/v1/consents/{consent.consent_id}"
    out = consent_created_json(consent)
    approach = ScaApproach.EMBEDDED.value
    if auth is not None:  # redirect and decoupled start the authorisation at once
        status_path = f"{location}/authorisations/{auth.authorisation_id}"
        out = add_sca_links(request, out, auth, status_path)
        approach = auth.sca_approach.value
    return json_response(request, out, 201, Location=location, **{"ASPSP-SCA-Approach": approach})


@router.get("/consents/{consent_id}")
def get_consent(consent_id: str, request: Request, tpp: AisTpp, bank: Bank) -> Response:
    consent = bank.consent(tpp.tpp_id, consent_id)
    status = consent.status_at(bank.clock())
    return json_response(request, consent_json(consent, status.value))


@router.get("/consents/{consent_id}/status")
def get_consent_status(consent_id: str, request: Request, tpp: AisTpp, bank: Bank) -> Response:
    consent = bank.consent(tpp.tpp_id, consent_id)
    return json_response(request, {"consentStatus": consent.status_at(bank.clock()).value})


@router.delete("/consents/{consent_id}")
def delete_consent(consent_id: str, request: Request, tpp: AisTpp, bank: Bank) -> Response:
    bank.delete_consent(tpp.tpp_id, consent_id)
    return Response(status_code=204, headers={"X-Request-ID": require_request_id(request)})


@router.post("/consents/{consent_id}/authorisations")
async def start_consent_authorisation(
    consent_id: str, request: Request, tpp: AisTpp, bank: Bank
) -> Response:
    body = await json_body(request, allow_empty=True)
    sca = sca_request(request)
    auth = bank.start_consent_authorisation(tpp.tpp_id, consent_id, psu_id(request), body, sca)
    location = f"/v1/consents/{consent_id}/authorisations/{auth.authorisation_id}"
    out = authorisation_json(auth, created=True)
    if auth.sca_approach is not ScaApproach.EMBEDDED:
        out = sca_start_json(request, auth, location)
    return json_response(
        request, out, 201, Location=location, **{"ASPSP-SCA-Approach": auth.sca_approach.value}
    )


@router.get("/consents/{consent_id}/authorisations")
def list_consent_authorisations(
    consent_id: str, request: Request, tpp: AisTpp, bank: Bank
) -> Response:
    ids = [a.authorisation_id for a in bank.consent_authorisations(tpp.tpp_id, consent_id)]
    return json_response(request, {"authorisationIds": ids})


@router.get("/consents/{consent_id}/authorisations/{authorisation_id}")
def get_consent_sca_status(
    consent_id: str, authorisation_id: str, request: Request, tpp: AisTpp, bank: Bank
) -> Response:
    auth = bank.consent_authorisation(tpp.tpp_id, consent_id, authorisation_id)
    return json_response(request, {"scaStatus": auth.sca_status.value})


@router.put("/consents/{consent_id}/authorisations/{authorisation_id}")
async def update_consent_authorisation(
    consent_id: str, authorisation_id: str, request: Request, tpp: AisTpp, bank: Bank
) -> Response:
    body = await json_body(request)
    auth = bank.update_consent_authorisation(
        tpp.tpp_id, consent_id, authorisation_id, psu_id(request), body
    )
    return json_response(
        request, authorisation_json(auth), 200, **{"ASPSP-SCA-Approach": auth.sca_approach.value}
    )


@router.get("/accounts")
def list_accounts(request: Request, tpp: AisTpp, bank: Bank) -> Response:
    with_balance = bool_query(request, "withBalance")
    views = bank.list_accounts(_ais_request(request, tpp), with_balance=with_balance)
    return json_response(request, {"accounts": [account_json(v) for v in views]})


@router.get("/accounts/{account_id}")
def read_account_details(account_id: str, request: Request, tpp: AisTpp, bank: Bank) -> Response:
    with_balance = bool_query(request, "withBalance")
    view = bank.account_details(_ais_request(request, tpp), account_id, with_balance=with_balance)
    return json_response(request, {"account": account_json(view)})


@router.get("/accounts/{account_id}/balances")
def read_balance(account_id: str, request: Request, tpp: AisTpp, bank: Bank) -> Response:
    view = bank.balances(_ais_request(request, tpp), account_id)
    return json_response(request, balances_json(view))


@router.get("/accounts/{account_id}/transactions")
def read_transaction_list(account_id: str, request: Request, tpp: AisTpp, bank: Bank) -> Response:
    query = parse_report_query(dict(request.query_params), bank.clock().date())
    with_balance = bool_query(request, "withBalance")
    req = _ais_request(request, tpp)
    view, page = bank.transactions(req, account_id, query, with_balance=with_balance)
    quirks = request.app.state.profile.quirks
    return json_response(request, apply_report_quirks(report_json(view, page, query), quirks))


@router.get("/accounts/{account_id}/transactions/{transaction_id}")
def read_transaction_details(
    account_id: str, transaction_id: str, request: Request, tpp: AisTpp, bank: Bank
) -> Response:
    account, transaction = bank.transaction_details(
        _ais_request(request, tpp), account_id, transaction_id
    )
    return json_response(
        request, {"transactionsDetails": transaction_json(transaction, account.currency)}
    )
