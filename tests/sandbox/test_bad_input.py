"""Bad input gets the spec's error code in `tppMessages`, never a 500, and stores nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.sandbox.ais_flow import ais_headers, consent_body, create_consent
from tests.sandbox.conftest import PSU_IP, headers
from twinrail.sandbox.bank.store.tables import consents


def codes(response):
    return [m["code"] for m in response.json()["tppMessages"]]


def consent_count(sandbox_bank) -> int:
    with sandbox_bank.service.engine.connect() as conn, conn.begin():
        return conn.execute(select(func.count()).select_from(consents)).scalar_one()


def post_consent(client, content, **extra):
    return client.post(
        "/v1/consents",
        content=content,
        headers=headers(PSU_IP_Address=PSU_IP, Content_Type="application/json", **extra),
    )


@pytest.mark.parametrize(
    "content, why",
    [
        (b"{not json", "malformed JSON"),
        (b"", "empty body"),
        (b"[]", "array instead of object"),
        (b"\xff\xfe", "not UTF-8"),
        (json.dumps({"access": {}}).encode(), "missing required fields"),
        (json.dumps(consent_body(["DE00123456780000000000"])).encode(), "bad IBAN checksum"),
        (json.dumps(consent_body(["NOT-AN-IBAN"])).encode(), "not an IBAN"),
        (json.dumps({**consent_body([]), "frequencyPerDay": 0}).encode(), "frequency below 1"),
        (json.dumps({**consent_body([]), "frequencyPerDay": "4"}).encode(), "frequency as string"),
        (json.dumps({**consent_body([]), "recurringIndicator": "yes"}).encode(), "not a boolean"),
        (json.dumps({**consent_body([]), "validUntil": "2020-01-01"}).encode(), "in the past"),
        (json.dumps({**consent_body([]), "validUntil": "2030-02-30"}).encode(), "no such day"),
        (json.dumps({**consent_body([]), "recurringIndicator": False}).encode(), "one-off, freq 4"),
        (json.dumps(consent_body(access={"allPsd2": "everything"})).encode(), "bad enum"),
        (json.dumps(consent_body(access={"accounts": "all"})).encode(), "accounts not a list"),
        (json.dumps(consent_body(access={"accounts": [{"bban": "123"}]})).encode(), "no iban"),
    ],
)
def test_a_bad_consent_request_is_format_error_and_stores_nothing(
    ais_client, sandbox_bank, content, why
):
    before = consent_count(sandbox_bank)
    response = post_consent(ais_client, content)
    assert (response.status_code, codes(response)) == (400, ["FORMAT_ERROR"]), why
    assert consent_count(sandbox_bank) == before


@pytest.mark.parametrize("missing", ["X-Request-ID", "PSU-IP-Address"])
def test_create_consent_without_a_mandatory_header_is_format_error(ais_client, missing):
    hdrs = headers(PSU_IP_Address=PSU_IP)
    del hdrs[missing]
    response = ais_client.post("/v1/consents", json=consent_body([]), headers=hdrs)
    assert (response.status_code, codes(response)) == (400, ["FORMAT_ERROR"])


@pytest.mark.parametrize(
    "name, value", [("X-Request-ID", "not-a-uuid"), ("PSU-IP-Address", "300.1.1.1")]
)
def test_malformed_headers_are_format_error(ais_client, name, value):
    hdrs = {**headers(PSU_IP_Address=PSU_IP), name: value}
    response = ais_client.post("/v1/consents", json=consent_body([]), headers=hdrs)
    assert (response.status_code, codes(response)) == (400, ["FORMAT_ERROR"])


def test_account_data_without_consent_id_is_format_error(ais_client):
    response = ais_client.get("/v1/accounts", headers=headers())
    assert (response.status_code, codes(response)) == (400, ["FORMAT_ERROR"])


@pytest.mark.parametrize(
    "query, code",
    [
        ("", "FORMAT_ERROR"),
        ("?bookingStatus=sometimes", "FORMAT_ERROR"),
        ("?bookingStatus=information", "PARAMETER_NOT_SUPPORTED"),
        ("?bookingStatus=booked&dateFrom=yesterday", "FORMAT_ERROR"),
        ("?bookingStatus=booked&dateFrom=2026-02-01&dateTo=2026-01-01", "PERIOD_INVALID"),
        ("?bookingStatus=booked&dateFrom=2999-01-01", "PERIOD_INVALID"),
        ("?bookingStatus=booked&pageIndex=-1", "FORMAT_ERROR"),
        ("?bookingStatus=booked&itemsPerPage=0", "FORMAT_ERROR"),
        ("?bookingStatus=booked&withBalance=maybe", "FORMAT_ERROR"),
        ("?bookingStatus=booked&entryReferenceFrom=E1", "PARAMETER_NOT_SUPPORTED"),
        ("?bookingStatus=booked&deltaList=true", "PARAMETER_NOT_SUPPORTED"),
    ],
)
def test_bad_transaction_queries_get_their_code(ais_client, accounts_of, query, code):
    account = accounts_of("carol")[0]
    from tests.sandbox.ais_flow import authorise_consent

    consent_id = create_consent(ais_client, consent_body([account.iban]), psu_id="carol")
    assert (
        authorise_consent(ais_client, consent_id, "carol", "carol-sandbox", "111111") == "finalised"
    )
    response = ais_client.get(
        f"/v1/accounts/{account.resource_id}/transactions{query}", headers=ais_headers(consent_id)
    )
    assert (response.status_code, codes(response)) == (400, [code])


def test_unknown_endpoints_and_methods_get_tpp_messages(ais_client):
    unknown = ais_client.get("/v1/nothing-here", headers=headers())
    assert (unknown.status_code, codes(unknown)) == (404, ["RESOURCE_UNKNOWN"])
    wrong_method = ais_client.put("/v1/consents", headers=headers())
    assert (wrong_method.status_code, codes(wrong_method)) == (405, ["SERVICE_INVALID"])


def test_an_authorisation_update_without_a_known_step_is_format_error(ais_client, accounts_of):
    consent_id = create_consent(ais_client, consent_body([accounts_of("alice")[0].iban]))
    start = ais_client.post(
        f"/v1/consents/{consent_id}/authorisations", headers=headers(PSU_ID="alice")
    )
    link = start.json()["_links"]["updatePsuAuthentication"]["href"]
    for body in ({}, {"psuData": {}}, {"psuData": "pw"}, {"scaAuthenticationData": 123456}):
        response = ais_client.put(link, json=body, headers=headers(PSU_ID="alice"))
        assert (response.status_code, codes(response)) == (400, ["FORMAT_ERROR"]), body
    # The PSU-ID given when the consent was created still identifies the PSU here.
    remembered = ais_client.put(link, json={"psuData": {"password": "x"}}, headers=headers())
    assert codes(remembered) == ["PSU_CREDENTIALS_INVALID"]


def test_authenticating_without_any_psu_id_is_format_error(ais_client, accounts_of):
    created = ais_client.post(
        "/v1/consents",
        json=consent_body([accounts_of("alice")[0].iban]),
        headers=headers(PSU_IP_Address=PSU_IP),
    )
    consent_id = created.json()["consentId"]
    start = ais_client.post(f"/v1/consents/{consent_id}/authorisations", headers=headers())
    link = start.json()["_links"]["updatePsuAuthentication"]["href"]
    response = ais_client.put(link, json={"psuData": {"password": "x"}}, headers=headers())
    assert (response.status_code, codes(response)) == (400, ["FORMAT_ERROR"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
consent_like = st.fixed_dictionaries(
    {},
    optional={
        "access": json_values
        | st.fixed_dictionaries({}, optional={"accounts": json_values, "allPsd2": json_values}),
        "recurringIndicator": json_values,
        "validUntil": json_values | st.dates().map(str),
        "frequencyPerDay": json_values,
        "combinedServiceIndicator": json_values,
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=consent_like | json_values)
def test_arbitrary_json_never_makes_the_bank_fail(ais_client, body):
    response = post_consent(ais_client, json.dumps(body).encode())
    assert response.status_code in (201, 400), response.text
