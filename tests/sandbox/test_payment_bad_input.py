"""Bad payment input gets the spec's error code in `tppMessages` with the right status, never a
500, and stores nothing; payments that can never execute are stored as RJCT with the reason."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.sandbox.conftest import PSU_IP, headers
from tests.sandbox.pis_flow import INSTANT, SCT, codes, initiate, payment_body
from twinrail.sandbox.bank.domain.validation import iban_checksum_ok
from twinrail.sandbox.bank.store.tables import payments

UNKNOWN_ID = "pmt-00000000000000000000000000000000"


def payment_count(sandbox_bank) -> int:
    with sandbox_bank.service.engine.connect() as conn, conn.begin():
        return conn.execute(select(func.count()).select_from(payments)).scalar_one()


@pytest.fixture
def alice_iban(accounts_of):
    return next(a.iban for a in accounts_of("alice") if a.cash_account_type == "CACC")


def with_checksum(country: str, bban: str) -> str:
    """An IBAN with a correct mod-97 check digits around any `bban`."""
    for digits in range(100):
        candidate = f"{country}{digits:02d}{bban}"
        if iban_checksum_ok(candidate):
            return candidate
    raise AssertionError("no check digits found")


def post_raw(client, content: bytes, product: str = SCT):
    return client.post(
        f"/v1/payments/{product}",
        content=content,
        headers=headers(PSU_IP_Address=PSU_IP, Content_Type="application/json"),
    )


def eur(amount):
    return {"currency": "EUR", "amount": amount}


# (why, the raw body, or overrides of a good body where None removes the field)
BAD_BODIES = [
    ("malformed JSON", b"{not json"),
    ("empty body", b""),
    ("array instead of object", b"[]"),
    ("no creditorName", {"creditorName": None}),
    ("no instructedAmount", {"instructedAmount": None}),
    ("bad creditor IBAN checksum", {"creditorAccount": {"iban": "DE00370400440532013000"}}),
    ("creditor not an IBAN", {"creditorAccount": {"iban": "NOT-AN-IBAN"}}),
    ("creditor without IBAN", {"creditorAccount": {"bban": "0532013000"}}),
    ("bad debtor IBAN", {"debtorAccount": {"iban": "DE00100200301000000001"}}),
    ("comma decimal", {"instructedAmount": eur("12,50")}),
    ("three decimals for EUR", {"instructedAmount": eur("12.505")}),
    ("negative amount", {"instructedAmount": eur("-5.00")}),
    ("zero amount", {"instructedAmount": eur("0.00")}),
    ("exponent", {"instructedAmount": eur("1e3")}),
    ("amount as number", {"instructedAmount": eur(12.5)}),
    ("lower-case currency", {"instructedAmount": {"currency": "eur", "amount": "1.00"}}),
    ("four-letter currency", {"instructedAmount": {"currency": "EURO", "amount": "1.00"}}),
    ("creditorName too long", {"creditorName": "x" * 71}),
    ("endToEndId too long", {"endToEndIdentification": "e" * 36}),
]


def bad_body(iban, change) -> bytes:
    if isinstance(change, bytes):
        return change
    body = payment_body(iban)
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    return json.dumps(body).encode()


@pytest.mark.parametrize("why, change", BAD_BODIES, ids=[why for why, _ in BAD_BODIES])
def test_a_bad_payment_request_is_format_error_and_stores_nothing(
    pis_client, sandbox_bank, alice_iban, why, change
):
    before = payment_count(sandbox_bank)
    response = post_raw(pis_client, bad_body(alice_iban, change))
    assert (response.status_code, codes(response)) == (400, ["FORMAT_ERROR"]), why
    assert payment_count(sandbox_bank) == before


def test_an_unknown_payment_product_is_product_unknown(pis_client, sandbox_bank, alice_iban):
    before = payment_count(sandbox_bank)
    response = initiate(pis_client, payment_body(alice_iban), "target-2-payments")
    assert (response.status_code, codes(response)) == (404, ["PRODUCT_UNKNOWN"])
    assert payment_count(sandbox_bank) == before


def test_a_debtor_account_of_another_bank_is_refused(pis_client, sandbox_bank):
    before = payment_count(sandbox_bank)
    response = initiate(pis_client, payment_body("DE89370400440532013000"))
    assert (response.status_code, codes(response)) == (400, ["RESOURCE_UNKNOWN"])
    assert payment_count(sandbox_bank) == before


def test_a_savings_account_cannot_send_a_credit_transfer(pis_client, accounts_of):
    savings = next(a for a in accounts_of("alice") if a.cash_account_type == "SVGS")
    response = initiate(pis_client, payment_body(savings.iban))
    assert (response.status_code, codes(response)) == (403, ["PRODUCT_INVALID"])


def test_initiation_without_psu_ip_address_is_format_error(pis_client, alice_iban):
    response = pis_client.post(
        f"/v1/payments/{SCT}", json=payment_body(alice_iban), headers=headers()
    )
    assert (response.status_code, codes(response)) == (400, ["FORMAT_ERROR"])


def test_a_creditor_iban_that_passes_mod97_but_not_schwifty_is_rejected_with_ac01(
    pis_client, alice_iban
):
    too_short = with_checksum("DE", "3704004405320130")  # German IBANs have 22 characters
    response = initiate(pis_client, payment_body(alice_iban, creditorAccount={"iban": too_short}))
    assert response.status_code == 201
    assert response.json()["transactionStatus"] == "RJCT"
    assert response.json()["psuMessage"].startswith("AC01")
    assert "startAuthorisationWithPsuAuthentication" not in response.json()["_links"]


def test_a_currency_sepa_does_not_carry_is_rejected_with_am03(pis_client, alice_iban):
    response = initiate(pis_client, payment_body(alice_iban, currency="USD"), INSTANT)
    assert response.status_code == 201
    payment_id = response.json()["paymentId"]
    status = pis_client.get(f"/v1/payments/{INSTANT}/{payment_id}/status", headers=headers())
    assert status.json()["transactionStatus"] == "RJCT"
    assert status.json()["tppMessages"][0]["text"].startswith("AM03")


@pytest.mark.parametrize(
    "method, path, status, code",
    [
        ("GET", f"/v1/payments/{SCT}/{UNKNOWN_ID}", 404, "RESOURCE_UNKNOWN"),
        ("GET", f"/v1/payments/{SCT}/{UNKNOWN_ID}/status", 404, "RESOURCE_UNKNOWN"),
        ("DELETE", f"/v1/payments/{SCT}/{UNKNOWN_ID}", 404, "RESOURCE_UNKNOWN"),
        ("POST", f"/v1/payments/{SCT}/{UNKNOWN_ID}/authorisations", 404, "RESOURCE_UNKNOWN"),
        ("GET", f"/v1/payments/{SCT}/{UNKNOWN_ID}/authorisations", 404, "RESOURCE_UNKNOWN"),
        ("GET", f"/v1/payments/{SCT}/{UNKNOWN_ID}/authorisations/auth-x", 404, "RESOURCE_UNKNOWN"),
        ("GET", f"/v1/payments/cheques/{UNKNOWN_ID}", 404, "PRODUCT_UNKNOWN"),
    ],
)
def test_unknown_payment_ids_are_resource_unknown(pis_client, method, path, status, code):
    response = pis_client.request(method, path, headers=headers())
    assert (response.status_code, codes(response)) == (status, [code])


def test_an_unknown_authorisation_of_a_known_payment_is_resource_unknown(pis_client, alice_iban):
    payment_id = initiate(pis_client, payment_body(alice_iban)).json()["paymentId"]
    path = f"/v1/payments/{SCT}/{payment_id}/authorisations/auth-unknown"
    response = pis_client.put(path, json={"scaAuthenticationData": "1"}, headers=headers())
    assert (response.status_code, codes(response)) == (404, ["RESOURCE_UNKNOWN"])


def test_a_payment_under_another_product_is_unknown(pis_client, alice_iban):
    payment_id = initiate(pis_client, payment_body(alice_iban)).json()["paymentId"]
    response = pis_client.get(f"/v1/payments/{INSTANT}/{payment_id}", headers=headers())
    assert (response.status_code, codes(response)) == (404, ["RESOURCE_UNKNOWN"])


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(
        ["debtorAccount", "instructedAmount", "creditorAccount", "creditorName",
         "endToEndIdentification", "remittanceInformationUnstructured"]
    ),
    value=_json_values,
)  # fmt: skip
def test_any_value_in_any_payment_field_never_gets_a_500(pis_client, alice_iban, field, value):
    response = initiate(pis_client, payment_body(alice_iban, **{field: value}))
    assert response.status_code in (201, 400), response.text
