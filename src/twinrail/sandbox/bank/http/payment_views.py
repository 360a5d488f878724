"""Payments, single or periodic, rendered as the spec's JSON shapes (and nothing else)."""

from __future__ import annotations

from typing import Any, Protocol

from twinrail.sandbox.bank.domain.accounts import format_amount
from twinrail.sandbox.bank.domain.payments import (
    Payment,
    PaymentRequest,
    RejectReason,
    TransactionStatus,
)
from twinrail.sandbox.bank.http.views import href

__all__ = [
    "Initiated",
    "payment_path",
    "created_json",
    "initiation_json",
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


class Initiated(Protocol):
    """What a single payment and a standing order share for rendering."""

    @property
    def payment_id(self) -> str: ...
    @property
    def request(self) -> PaymentRequest: ...
    @property
    def status(self) -> TransactionStatus: ...
    @property
    def reject_reason(self) -> RejectReason | None: ...


def created_json(initiated: Initiated, base: str) -> dict[str, Any]:
    """The 201 body of an initiation at `base` (embedded: explicit authorisation start)."""
    links = {"self": href(base), "status": href(f"{base}/status")}
    if initiated.status is TransactionStatus.RCVD:
        links["startAuthorisationWithPsuAuthentication"] = href(f"{base}/authorisations")
    body: dict[str, Any] = {
        "transactionStatus": initiated.status.value,
        "paymentId": initiated.payment_id,
        "_links": links,
    }
    if initiated.reject_reason is not None:
        body["psuMessage"] = initiated.reject_reason.text
    return body


def initiation_json(request: PaymentRequest) -> dict[str, Any]:
    """The initiation's own fields, as the TPP sent them."""
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
    return body


def payment_created_json(payment: Payment) -> dict[str, Any]:
    """The 201 body of POST /v1/payments/{product} (embedded: explicit authorisation start)."""
    return created_json(payment, payment_path(payment.request.product.value, payment.payment_id))


def payment_json(payment: Payment) -> dict[str, Any]:
    """The 200 body of GET /v1/payments/{product}/{id}: the initiation plus its status."""
    body = initiation_json(payment.request)
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


def cancellation_started_json(initiated: Initiated, base: str) -> dict[str, Any]:
    """The 202 body of DELETE on an authorised payment at `base`: the PSU must authorise the
    cancellation."""
    return {
        "transactionStatus": initiated.status.value,
        "_links": {
            "self": href(base),
            "status": href(f"{base}/status"),
            "startAuthorisationWithPsuAuthentication": href(f"{base}/cancellation-authorisations"),
        },
    }
