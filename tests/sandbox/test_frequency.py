"""frequencyPerDay limits unattended access (no PSU-IP-Address); PSU-present access is free."""

from __future__ import annotations

import pytest

from tests.openbanking.pki_builders import issue_tpp
from tests.sandbox.ais_flow import ais_headers
from twinrail.openbanking.domain.psd2 import OrganizationIdentifier


def codes(response):
    return [m["code"] for m in response.json()["tppMessages"]]


@pytest.fixture(scope="module")
def poller(client_for, qtsp):
    cert = issue_tpp(qtsp, "poller", org_id=OrganizationIdentifier("DE", "BAFIN", "POLLER"))
    return client_for(cert.cert_path, cert.key_path)


@pytest.fixture
def consent_and_account(poller, accounts_of):
    account = accounts_of("bob")[0]
    consent_id = valid_consent_for_bob(poller, account.iban, frequency=2)
    return consent_id, account


def valid_consent_for_bob(client, iban, frequency):
    from tests.sandbox.ais_flow import authorise_consent, consent_body, create_consent

    consent_id = create_consent(client, consent_body([iban], frequency=frequency), psu_id="bob")
    assert authorise_consent(client, consent_id, "bob", "bob-sandbox", "654321") == "finalised"
    return consent_id


def test_unattended_access_beyond_frequency_per_day_is_access_exceeded(poller, consent_and_account):
    consent_id, account = consent_and_account
    url = f"/v1/accounts/{account.resource_id}/balances"
    for _ in range(2):
        assert (
            poller.get(url, headers=ais_headers(consent_id, psu_present=False)).status_code == 200
        )
    third = poller.get(url, headers=ais_headers(consent_id, psu_present=False))
    assert (third.status_code, codes(third)) == (429, ["ACCESS_EXCEEDED"])


def test_psu_present_access_is_not_counted(poller, consent_and_account):
    consent_id, account = consent_and_account
    url = f"/v1/accounts/{account.resource_id}/balances"
    for _ in range(5):
        assert poller.get(url, headers=ais_headers(consent_id, psu_present=True)).status_code == 200
    for _ in range(2):
        assert (
            poller.get(url, headers=ais_headers(consent_id, psu_present=False)).status_code == 200
        )


def test_the_limit_is_per_kind_of_data_and_per_account(poller, consent_and_account):
    consent_id, account = consent_and_account
    base = f"/v1/accounts/{account.resource_id}"
    unattended = ais_headers(consent_id, psu_present=False)
    for path in ("/balances", "/balances", "/transactions?bookingStatus=booked",
                 "/transactions?bookingStatus=booked", "", ""):  # fmt: skip
        assert (
            poller.get(base + path, headers=ais_headers(consent_id, psu_present=False)).status_code
            == 200
        )
    assert poller.get(base + "/balances", headers=unattended).status_code == 429


def test_the_count_starts_again_the_next_day(poller, consent_and_account, bank_clock):
    consent_id, account = consent_and_account
    url = f"/v1/accounts/{account.resource_id}/balances"
    for _ in range(2):
        poller.get(url, headers=ais_headers(consent_id, psu_present=False))
    assert poller.get(url, headers=ais_headers(consent_id, psu_present=False)).status_code == 429
    bank_clock.advance(days=1)
    assert poller.get(url, headers=ais_headers(consent_id, psu_present=False)).status_code == 200


def test_a_refused_access_does_not_use_up_the_allowance(poller, consent_and_account):
    consent_id, account = consent_and_account
    bad = poller.get(
        f"/v1/accounts/{account.resource_id}/transactions?bookingStatus=nonsense",
        headers=ais_headers(consent_id, psu_present=False),
    )
    assert bad.status_code == 400
    url = f"/v1/accounts/{account.resource_id}/transactions?bookingStatus=booked"
    for _ in range(2):
        assert (
            poller.get(url, headers=ais_headers(consent_id, psu_present=False)).status_code == 200
        )


def test_a_one_off_consent_allows_one_unattended_access_a_day(poller, accounts_of):
    account = accounts_of("bob")[0]
    consent_id = valid_consent_for_bob(poller, account.iban, frequency=1)
    del consent_id
    from tests.sandbox.ais_flow import authorise_consent, consent_body, create_consent

    one_off = create_consent(
        poller, consent_body([account.iban], recurring=False, frequency=1), psu_id="bob"
    )
    assert authorise_consent(poller, one_off, "bob", "bob-sandbox", "654321") == "finalised"
    url = f"/v1/accounts/{account.resource_id}"
    assert poller.get(url, headers=ais_headers(one_off, psu_present=False)).status_code == 200
    assert poller.get(url, headers=ais_headers(one_off, psu_present=False)).status_code == 429
    assert poller.get(url, headers=ais_headers(one_off, psu_present=True)).status_code == 200
