"""Single SEPA credit transfers (normal and instant) and their transaction status:

    RCVD --SCA finalised, funds there--> ACTC --settlement delay (sandbox time)--> ACSC | ACCC
      \\--SCA failed / timed out, insufficient funds at SCA-->  RJCT (with a reason)
    RCVD | ACTC (not instant, before settlement) --DELETE--> CANC

A payment that cannot be executed at all (creditor IBAN that passes mod-97 but is not a real
IBAN of its country, a currency SEPA does not carry) is stored as RJCT at once, so the TPP can
read why; a malformed request is a FORMAT_ERROR and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from twinrail.sandbox.bank.domain.authorisation import SCA_TIMEOUT
from twinrail.sandbox.bank.domain.errors import FormatError, ProductUnknown, StatusInvalid
from twinrail.sandbox.bank.domain.validation import normalise_iban, require_object

__all__ = [
    "PaymentProduct",
    "TransactionStatus",
    "RejectReason",
    "PaymentRequest",
    "Payment",
    "parse_amount",
    "parse_money",
    "parse_payment_request",
    "payment_product",
]

_AMOUNT = re.compile(r"^[0-9]{1,14}(\.[0-9]{1,2})?$")  # the spec's amountValue, EUR's 2 decimals
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class PaymentProduct(StrEnum):
    """The payment products this bank offers on /v1/payments."""

    SEPA = "sepa-credit-transfers"
    INSTANT = "instant-sepa-credit-transfers"

    @property
    def settlement_delay(self) -> dt.timedelta:
        """How long after acceptance the transfer settles (SCT: next business day, roughly)."""
        return dt.timedelta(seconds=10) if self is PaymentProduct.INSTANT else dt.timedelta(days=1)

    @property
    def settled_status(self) -> TransactionStatus:
        """ACCC for instant (credited to the creditor), ACSC for SCT (settled on our side)."""
        return TransactionStatus.ACCC if self is PaymentProduct.INSTANT else TransactionStatus.ACSC


def payment_product(value: str) -> PaymentProduct:
    """The product named in the path, or PRODUCT_UNKNOWN."""
    try:
        return PaymentProduct(value)
    except ValueError:
        raise ProductUnknown(
            f"payment product {value[:60]!r} is not offered", location="path"
        ) from None


class TransactionStatus(StrEnum):
    """The ISO 20022 transactionStatus values this bank uses."""

    RCVD = "RCVD"
    ACTC = "ACTC"
    ACSC = "ACSC"
    ACCC = "ACCC"
    RJCT = "RJCT"
    CANC = "CANC"

    @property
    def is_final(self) -> bool:
        """Whether the payment can no longer change."""
        return self in {self.ACSC, self.ACCC, self.RJCT, self.CANC}


class RejectReason(StrEnum):
    """Why a payment was rejected (ISO 20022 external status reason codes)."""

    INSUFFICIENT_FUNDS = "AM04"
    INVALID_CREDITOR_ACCOUNT = "AC01"
    CURRENCY_NOT_ALLOWED = "AM03"
    SCA_FAILED = "NOAS"  # no (successful) answer from the customer
    NOT_ACCOUNT_HOLDER = "AG01"

    @property
    def text(self) -> str:
        """A sentence for the TPP and PSU."""
        return _REASON_TEXT[self]


_REASON_TEXT = {
    RejectReason.INSUFFICIENT_FUNDS: "AM04 insufficient funds on the debtor account",
    RejectReason.INVALID_CREDITOR_ACCOUNT: "AC01 the creditor IBAN is not a valid account number",
    RejectReason.CURRENCY_NOT_ALLOWED: "AM03 SEPA credit transfers are made in EUR only",
    RejectReason.SCA_FAILED: "NOAS the PSU did not complete the SCA",
    RejectReason.NOT_ACCOUNT_HOLDER: "AG01 the authenticated PSU does not hold the debtor account",
}


def parse_amount(value: Any, path: str) -> int:
    """A positive amountValue with at most 2 decimals, in minor units."""
    if not isinstance(value, str) or not _AMOUNT.match(value):
        raise FormatError(f"{path} must be a positive decimal string with up to 2 decimals")
    whole, _, fraction = value.partition(".")
    minor = int(whole) * 100 + int(fraction.ljust(2, "0") or "0")
    if minor <= 0:
        raise FormatError(f"{path} must be greater than zero")
    return minor


def parse_money(value: Any, path: str) -> tuple[int, str]:
    """An `amount` object: (minor units, ISO 4217 currency code)."""
    obj = require_object(value, path)
    currency = obj.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise FormatError(f"{path}.currency must be an ISO 4217 code")
    return parse_amount(obj.get("amount"), f"{path}.amount"), currency


def _text(obj: dict[str, Any], key: str, limit: int, *, required: bool = False) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise FormatError(f"{key} must be a non-empty string of at most {limit} characters")
    return value


def _iban_of(value: Any, path: str) -> str:
    ref = require_object(value, path)
    if "iban" not in ref:
        raise FormatError(f"{path} needs an iban")  # no BBAN, PAN or MSISDN at this bank
    return normalise_iban(ref["iban"], f"{path}.iban")


@dataclass(frozen=True)
class PaymentRequest:
    """A validated JSON payment initiation body."""

    product: PaymentProduct
    debtor_iban: str
    amount: int  # minor units
    currency: str
    creditor_iban: str
    creditor_name: str
    end_to_end_id: str
    remittance: str


def parse_payment_request(body: Any, product: PaymentProduct) -> PaymentRequest:
    """Validate a paymentInitiation_json body; FORMAT_ERROR for anything malformed."""
    obj = require_object(body, "body")
    for key in ("debtorAccount", "instructedAmount", "creditorAccount", "creditorName"):
        if key not in obj:
            raise FormatError(f"{key} is required")
    amount, currency = parse_money(obj["instructedAmount"], "instructedAmount")
    return PaymentRequest(
        product=product,
        debtor_iban=_iban_of(obj["debtorAccount"], "debtorAccount"),
        amount=amount,
        currency=currency,
        creditor_iban=_iban_of(obj["creditorAccount"], "creditorAccount"),
        creditor_name=_text(obj, "creditorName", 70, required=True),
        end_to_end_id=_text(obj, "endToEndIdentification", 35),
        remittance=_text(obj, "remittanceInformationUnstructured", 140),
    )


@dataclass(frozen=True)
class Payment:
    """A payment resource of one TPP, debiting one of this bank's accounts."""

    payment_id: str
    tpp_id: str
    request: PaymentRequest
    debtor_account_id: str
    status: TransactionStatus
    reject_reason: RejectReason | None
    created_at: dt.datetime
    updated_at: dt.datetime
    settle_at: dt.datetime | None = None  # set when accepted (ACTC)
    entry_id: str | None = None  # the debtor's transaction, pending then booked

    @classmethod
    def receive(
        cls,
        payment_id: str,
        tpp_id: str,
        request: PaymentRequest,
        debtor_account_id: str,
        *,
        creditor_iban_exists: bool,
        now: dt.datetime,
    ) -> Payment:
        """A new payment: RCVD, or RJCT at once when it can never be executed."""
        reason = None
        if request.currency != "EUR":
            reason = RejectReason.CURRENCY_NOT_ALLOWED
        elif not creditor_iban_exists:
            reason = RejectReason.INVALID_CREDITOR_ACCOUNT
        status = TransactionStatus.RJCT if reason else TransactionStatus.RCVD
        return cls(payment_id, tpp_id, request, debtor_account_id, status, reason, now, now)

    def _require(self, *allowed: TransactionStatus) -> None:
        if self.status not in allowed:
            raise StatusInvalid(f"payment is {self.status.value}", status=self.status.value)

    def accept(
        self, available: int, *, psu_holds_account: bool, entry_id: str, now: dt.datetime
    ) -> Payment:
        """The payment after a finalised SCA: ACTC if the PSU may and can pay, else RJCT."""
        self._require(TransactionStatus.RCVD)
        if not psu_holds_account:
            return self.reject(RejectReason.NOT_ACCOUNT_HOLDER, now)
        if available < self.request.amount:
            return self.reject(RejectReason.INSUFFICIENT_FUNDS, now)
        settle_at = now + self.request.product.settlement_delay
        return replace(
            self, status=TransactionStatus.ACTC, settle_at=settle_at, entry_id=entry_id,
            updated_at=now,
        )  # fmt: skip

    def reject(self, reason: RejectReason, now: dt.datetime) -> Payment:
        """The payment rejected for `reason`."""
        self._require(TransactionStatus.RCVD)
        return replace(self, status=TransactionStatus.RJCT, reject_reason=reason, updated_at=now)

    def lapse_if_unauthorised(self, now: dt.datetime, *, sca_in_progress: bool) -> Payment | None:
        """RJCT if the PSU left the payment without a completed SCA beyond the SCA timeout
        (spec: "If the PSU does not complete a required SCA within the required timeframe the
        payment resource's status must be set to RJCT"), else None."""
        if self.status is not TransactionStatus.RCVD or sca_in_progress:
            return None
        if now - self.created_at <= SCA_TIMEOUT:
            return None
        return self.reject(RejectReason.SCA_FAILED, now)

    def settle_if_due(self, now: dt.datetime) -> Payment | None:
        """The settled payment if its settlement time has come, else None."""
        if self.status is not TransactionStatus.ACTC or self.settle_at is None:
            return None
        if now < self.settle_at:
            return None
        return replace(self, status=self.request.product.settled_status, updated_at=now)

    def cancellation_needs_sca(self, now: dt.datetime) -> bool:
        """Whether the payment is authorised but unexecuted, so that the PSU must authorise its
        cancellation (an instant payment executes at once and cannot be recalled)."""
        return (
            self.status is TransactionStatus.ACTC
            and self.request.product is PaymentProduct.SEPA
            and self.settle_at is not None
            and now < self.settle_at
        )

    def cancel(self, now: dt.datetime) -> Payment:
        """The payment cancelled before execution: unauthorised, or authorised with the PSU's
        cancellation SCA (`cancellation_needs_sca`)."""
        if not self.cancellation_needs_sca(now):
            self._require(TransactionStatus.RCVD)
        return replace(self, status=TransactionStatus.CANC, updated_at=now)
