"""Confirmation of funds (PIIS) answers from the account's real available balance."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.openbanking.pki_builders import issue_tpp
from tests.sandbox.conftest import headers
from tests.sandbox.pis_flow import SCT, authorise_payment, available, codes, initiate, payment_body
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.sandbox.bank.domain.accounts import format_amount


@pytest.fixture
def carol(accounts_of):
    return accounts_of("carol")[0]


def confirm(client, iban, amount, currency="EUR"):
    body = {"account": {"iban": iban}, "instructedAmount": {"currency": currency, "amount": amount}}
    return client.post("/v1/funds-confirmations", json=body, headers=headers())


def test_funds_are_available_up_to_the_available_balance_and_not_a_cent_more(
    piis_client, carol, sandbox_bank
):
    balance = available(sandbox_bank, carol.resource_id)
    assert confirm(piis_client, carol.iban, format_amount(balance)).json() == {
        "fundsAvailable": True
    }
    assert confirm(piis_client, carol.iban, format_amount(balance + 1)).json() == {
        "fundsAvailable": False
    }


def test_an_accepted_payment_reduces_the_funds_confirmed(
    piis_client, pis_client, carol, sandbox_bank
):
    balance = available(sandbox_bank, carol.resource_id)
    payment = initiate(pis_client, payment_body(carol.iban, "100.00"))
    authorise_payment(pis_client, SCT, payment.json()["paymentId"], psu_id="carol")
    assert confirm(piis_client, carol.iban, format_amount(balance)).json() == {
        "fundsAvailable": False
    }
    assert confirm(piis_client, carol.iban, format_amount(balance - 10_000)).json() == {
        "fundsAvailable": True
    }


def test_funds_confirmation_needs_the_piisp_role(client_for, qtsp, carol):
    cert = issue_tpp(qtsp, "pis-no-ic", (Psd2Role.PSP_PI, Psd2Role.PSP_AI))
    response = confirm(client_for(cert.cert_path, cert.key_path), carol.iban, "1.00")
    assert (response.status_code, codes(response)) == (401, ["ROLE_INVALID"])


@pytest.mark.parametrize(
    "iban, amount, currency, status, code",
    [
        ("DE00100200301000000001", "1.00", "EUR", 400, "FORMAT_ERROR"),
        (None, "1,00", "EUR", 400, "FORMAT_ERROR"),
        (None, "1.00", "Euro", 400, "FORMAT_ERROR"),
        (None, "1.00", "USD", 400, "FORMAT_ERROR"),
        ("DE89370400440532013000", "1.00", "EUR", 400, "RESOURCE_UNKNOWN"),
    ],
    ids=["bad IBAN", "bad amount", "bad currency code", "other currency", "other bank"],
)
def test_bad_funds_confirmation_requests_get_the_spec_error(
    piis_client, carol, iban, amount, currency, status, code
):
    response = confirm(piis_client, iban or carol.iban, amount, currency)
    assert (response.status_code, codes(response)) == (status, [code])


def test_a_funds_confirmation_without_a_body_is_format_error(piis_client):
    response = piis_client.post("/v1/funds-confirmations", headers=headers())
    assert (response.status_code, codes(response)) == (400, ["FORMAT_ERROR"])


_values = st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.just({})


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(account=_values | st.fixed_dictionaries({"iban": _values}), amount=_values)
def test_any_funds_confirmation_body_gets_an_answer_never_a_500(piis_client, account, amount):
    body = {"account": account, "instructedAmount": {"currency": "EUR", "amount": amount}}
    response = piis_client.post("/v1/funds-confirmations", json=body, headers=headers())
    assert response.status_code in (200, 400), response.text
