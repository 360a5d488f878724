"""The payment rules on their own (no bank, no HTTP): parsing, statuses and their transitions."""

from __future__ import annotations

import datetime as dt

import pytest

from twinrail.sandbox.bank.domain.errors import FormatError, ProductUnknown, StatusInvalid
from twinrail.sandbox.bank.domain.payments import (
    Payment,
    PaymentProduct,
    RejectReason,
    TransactionStatus,
    parse_amount,
    parse_payment_request,
    payment_product,
)

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
BODY = {
    "debtorAccount": {"iban": "DE89370400440532013000"},
    "instructedAmount": {"currency": "EUR", "amount": "10.00"},
    "creditorAccount": {"iban": "NL91ABNA0417164300"},
    "creditorName": "Acme",
}


def received(product=PaymentProduct.SEPA, amount="10.00", currency="EUR", exists=True):
    body = {**BODY, "instructedAmount": {"currency": currency, "amount": amount}}
    request = parse_payment_request(body, product)
    return Payment.receive("pmt-1", "tpp", request, "acc-1", creditor_iban_exists=exists, now=NOW)


@pytest.mark.parametrize(
    "text, cents", [("1056", 105600), ("5768.2", 576820), ("0.01", 1), ("12.30", 1230)]
)
def test_amounts_in_the_spec_format_become_cents(text, cents):
    assert parse_amount(text, "amount") == cents


@pytest.mark.parametrize("text", ["-1.50", "0", "1.234", "1,5", " 1", "1e2", 12, None, ""])
def test_amounts_outside_the_format_or_not_positive_are_format_errors(text):
    with pytest.raises(FormatError):
        parse_amount(text, "amount")


def test_only_the_two_sepa_products_are_offered():
    assert payment_product("instant-sepa-credit-transfers") is PaymentProduct.INSTANT
    with pytest.raises(ProductUnknown):
        payment_product("target-2-payments")


def test_a_new_payment_is_received_unless_it_can_never_execute():
    assert received().status is TransactionStatus.RCVD
    assert received(currency="USD").reject_reason is RejectReason.CURRENCY_NOT_ALLOWED
    assert received(exists=False).reject_reason is RejectReason.INVALID_CREDITOR_ACCOUNT


def test_acceptance_checks_the_account_holder_and_the_available_funds():
    payment = received()
    ok = payment.accept(1000, psu_holds_account=True, entry_id="e", now=NOW)
    assert (ok.status, ok.settle_at) == (TransactionStatus.ACTC, NOW + dt.timedelta(days=1))
    short = payment.accept(999, psu_holds_account=True, entry_id="e", now=NOW)
    assert short.reject_reason is RejectReason.INSUFFICIENT_FUNDS
    stranger = payment.accept(10**9, psu_holds_account=False, entry_id="e", now=NOW)
    assert stranger.reject_reason is RejectReason.NOT_ACCOUNT_HOLDER


@pytest.mark.parametrize(
    "product, delay, final",
    [
        (PaymentProduct.SEPA, dt.timedelta(days=1), TransactionStatus.ACSC),
        (PaymentProduct.INSTANT, dt.timedelta(seconds=10), TransactionStatus.ACCC),
    ],
)
def test_an_accepted_payment_settles_once_its_delay_has_passed(product, delay, final):
    accepted = received(product).accept(10**6, psu_holds_account=True, entry_id="e", now=NOW)
    assert accepted.settle_if_due(NOW + delay - dt.timedelta(microseconds=1)) is None
    settled = accepted.settle_if_due(NOW + delay)
    assert settled is not None and settled.status is final


def test_cancellation_is_possible_only_before_execution():
    assert received().cancel(NOW).status is TransactionStatus.CANC
    sct = received().accept(10**6, psu_holds_account=True, entry_id="e", now=NOW)
    assert sct.cancel(NOW + dt.timedelta(hours=1)).status is TransactionStatus.CANC
    with pytest.raises(StatusInvalid):
        sct.cancel(NOW + dt.timedelta(days=1))
    instant = received(PaymentProduct.INSTANT)
    accepted = instant.accept(10**6, psu_holds_account=True, entry_id="e", now=NOW)
    with pytest.raises(StatusInvalid):
        accepted.cancel(NOW)


def test_a_payment_without_sca_lapses_after_the_sca_timeout():
    payment = received()
    later = NOW + dt.timedelta(minutes=11)
    assert (
        payment.lapse_if_unauthorised(NOW + dt.timedelta(minutes=9), sca_in_progress=False) is None
    )
    assert payment.lapse_if_unauthorised(later, sca_in_progress=True) is None
    lapsed = payment.lapse_if_unauthorised(later, sca_in_progress=False)
    assert lapsed is not None and lapsed.reject_reason is RejectReason.SCA_FAILED
