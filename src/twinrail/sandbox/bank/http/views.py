"""Domain values rendered as the spec's JSON shapes (and nothing else)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from twinrail.sandbox.bank.domain.accounts import Account, Balance, Transaction, format_amount
from twinrail.sandbox.bank.domain.authorisation import SMS_OTP_METHOD, Authorisation, ScaStatus
from twinrail.sandbox.bank.domain.consents import Consent
from twinrail.sandbox.bank.domain.reports import ReportPage, ReportQuery
from twinrail.sandbox.bank.service.bank_service import AccountView

__all__ = [
    "href",
    "consent_created_json",
    "consent_json",
    "authorisation_json",
    "account_json",
    "balances_json",
    "report_json",
    "transaction_json",
]


def href(path: str) -> dict[str, str]:
    """A hrefType object."""
    return {"href": path}


def _amount(minor: int, currency: str) -> dict[str, str]:
    return {"currency": currency, "amount": format_amount(minor)}


def consent_created_json(consent: Consent) -> dict[str, Any]:
    """The 201 body of POST /v1/consents (embedded approach: explicit authorisation start)."""
    base = f"/v1/consents/{consent.consent_id}"
    return {
        "consentStatus": consent.status.value,
        "consentId": consent.consent_id,
        "_links": {
            "self": href(base),
            "status": href(f"{base}/status"),
            "startAuthorisationWithPsuAuthentication": href(f"{base}/authorisations"),
        },
    }


def consent_json(consent: Consent, status: str) -> dict[str, Any]:
    """The 200 body of GET /v1/consents/{id}."""
    shown = consent.granted if consent.granted and consent.requested.is_bank_offered else None
    return {
        "access": (shown or consent.requested).to_json(),
        "recurringIndicator": consent.recurring,
        "validUntil": consent.valid_until.isoformat(),
        "frequencyPerDay": consent.frequency_per_day,
        "lastActionDate": consent.last_action_date.isoformat(),
        "consentStatus": status,
        "_links": {"account": href("/v1/accounts")} if status == "valid" else {},
    }


def authorisation_json(
    auth: Authorisation, *, created: bool = False, parent: str | None = None
) -> dict[str, Any]:
    """The body of a start (201) or update (200) of an authorisation of the resource at `parent`
    (a consent's path unless given)."""
    parent = parent or f"/v1/consents/{auth.resource_id}"
    base = f"{parent}/authorisations/{auth.authorisation_id}"
    body: dict[str, Any] = {"scaStatus": auth.sca_status.value}
    links: dict[str, Any] = {"scaStatus": href(base)}
    if auth.sca_status is ScaStatus.RECEIVED:
        links["updatePsuAuthentication"] = href(base)
    elif auth.sca_status is ScaStatus.SCA_METHOD_SELECTED:
        links["authoriseTransaction"] = href(base)
        body["chosenScaMethod"] = dict(SMS_OTP_METHOD)
        body["challengeData"] = {
            "otpMaxLength": 6,
            "otpFormat": "integer",
            "additionalInformation": "Enter the one-time password sent to your phone.",
        }
    if created or auth.sca_status is not ScaStatus.FINALISED:
        body["authorisationId"] = auth.authorisation_id
    body["_links"] = links
    return body


def _reference(account: Account) -> dict[str, str]:
    return {"iban": account.iban, "currency": account.currency}


def _balance(balance: Balance, currency: str) -> dict[str, Any]:
    return {
        "balanceAmount": _amount(balance.amount, currency),
        "balanceType": balance.balance_type,
        "referenceDate": balance.reference_date.isoformat(),
    }


def account_json(view: AccountView) -> dict[str, Any]:
    """An accountDetails object, with balances when the view has them."""
    account = view.account
    base = f"/v1/accounts/{account.resource_id}"
    body: dict[str, Any] = {
        "resourceId": account.resource_id,
        "iban": account.iban,
        "currency": account.currency,
        "name": account.name,
        "product": account.product,
        "cashAccountType": account.cash_account_type,
        "status": "enabled",
        "bic": account.bic,
        "usage": "PRIV",
    }
    if view.balances is not None:
        body["balances"] = [_balance(b, account.currency) for b in view.balances]
    links = {}
    if view.can_read_balances:
        links["balances"] = href(f"{base}/balances")
    if view.can_read_transactions:
        links["transactions"] = href(f"{base}/transactions")
    if links:
        body["_links"] = links
    return body


def balances_json(view: AccountView) -> dict[str, Any]:
    """The 200 body of GET /v1/accounts/{id}/balances."""
    currency = view.account.currency
    return {
        "account": _reference(view.account),
        "balances": [_balance(b, currency) for b in view.balances or []],
    }


def transaction_json(t: Transaction, currency: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "transactionId": t.transaction_id,
        "entryReference": t.entry_reference,
        "valueDate": t.value_date.isoformat(),
        "transactionAmount": _amount(t.amount, currency),
        "remittanceInformationUnstructured": t.remittance,
    }
    if t.booking_date is not None:
        item["bookingDate"] = t.booking_date.isoformat()
    party = {"iban": t.counterparty_iban}
    if t.amount < 0:
        item["creditorName"], item["creditorAccount"] = t.counterparty_name, party
    else:
        item["debtorName"], item["debtorAccount"] = t.counterparty_name, party
    return item


def report_json(view: AccountView, page: ReportPage, query: ReportQuery) -> dict[str, Any]:
    """The 200 body of GET /v1/accounts/{id}/transactions, with paging `_links`."""
    account = view.account
    base = f"/v1/accounts/{account.resource_id}"

    def page_link(index: int) -> dict[str, str]:
        params = {"bookingStatus": query.booking_status.value}
        if query.date_from:
            params["dateFrom"] = query.date_from.isoformat()
        if query.date_to:
            params["dateTo"] = query.date_to.isoformat()
        params["itemsPerPage"] = str(query.page_size)
        params["pageIndex"] = str(index)
        return href(f"{base}/transactions?{urlencode(params)}")

    links: dict[str, Any] = {"account": href(base)}
    if page.last_page > 0:
        links["first"] = page_link(0)
        links["last"] = page_link(page.last_page)
        if page.page > 0:
            links["previous"] = page_link(min(page.page - 1, page.last_page))
        if page.page < page.last_page:
            links["next"] = page_link(page.page + 1)
    report: dict[str, Any] = {}
    if page.booked is not None:
        report["booked"] = [transaction_json(t, account.currency) for t in page.booked]
    if page.pending is not None:
        report["pending"] = [transaction_json(t, account.currency) for t in page.pending]
    report["_links"] = links
    body: dict[str, Any] = {"account": _reference(account), "transactions": report}
    if view.balances is not None:
        body["balances"] = [_balance(b, account.currency) for b in view.balances]
    return body
