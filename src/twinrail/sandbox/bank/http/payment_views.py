"""Payments rendered as the spec's JSON shapes (and nothing else)."""

from __future__ import annotations

from typing import Any

from twinrail.sandbox.bank.domain.accounts import format_amount
from twinrail.sandbox.bank.domain.payments import Payment, TransactionStatus
from twinrail.sandbox.bank.http.views import href

__all__ = [
    "payment_path",
    "payment_created_json",
    "payment_json",
    "payment_status_json",
    "cancellation_started_json",
]


def payment_path(product: str, payment_id: str) -> str:
    """The payment resource's path."""
    return f"/v1/payments/{product}/{payment_id}"


def _reason_message(payment: Payment) -> list[dict[str, str]]:
    # tppMessageGeneric types `code` as a message category (a quirk of the 1.3.11 definition),
    # so the ISO reason code travels at the start of the text.
    if payment.reject_reason is None:
        return []
    return [{"category": "ERROR", "code": "ERROR", "text": payment.reject_reason.text}]


def payment_created_json(payment: Payment) -> dict[str, Any]:
    """The 201 body of POST /v1/payments/{product} (embedded: explicit authorisation start)."""
    base = payment_path(payment.request.product.value, payment.payment_id)
    links = {"self": href(base), "status": href(f"{base}/status")}
    if payment.status is TransactionStatus.RCVD:
        links["startAuthorisationWithPsuAuthentication"] = href(f"{base}/authorisations")
    body: dict[str, Any] = {
        "transactionStatus": payment.status.value,
        "paymentId": payment.payment_id,
        "_links": links,
    }
    if payment.reject_reason is not None:
        body["psuMessage"] = payment.reject_reason.text
    return body


def payment_json(payment: Payment) -> dict[str, Any]:
    """The 200 body of GET /v1/payments/{product}/{id}: the initiation plus its status."""
    request = payment.request
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
    body["transactionStatus"] = payment.status.value
    if reasons := _reason_message(payment):
        body["tppMessages"] = reasons
    return body


def payment_status_json(payment: Payment) -> dict[str, Any]:
    """The 200 body of GET .../status; fundsAvailable once the funds check at SCA passed."""
    body: dict[str, Any] = {"transactionStatus": payment.status.value}
    if payment.status is TransactionStatus.ACTC:
        body["fundsAvailable"] = True
    if payment.reject_reason is not None:
        body["psuMessage"] = payment.reject_reason.text
        body["tppMessages"] = _reason_message(payment)
    return body


def cancellation_started_json(payment: Payment) -> dict[str, Any]:
    """The 202 body of DELETE on an authorised payment: the PSU must authorise the cancellation."""
    base = payment_path(payment.request.product.value, payment.payment_id)
    return {
        "transactionStatus": payment.status.value,
        "_links": {
            "self": href(base),
            "status": href(f"{base}/status"),
            "startAuthorisationWithPsuAuthentication": href(f"{base}/cancellation-authorisations"),
        },
    }
