"""AIS consents through their lifecycle, over mutual TLS, every answer checked against the spec."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.openbanking.pki_builders import issue_tpp
from tests.sandbox.ais_flow import (
    ais_headers,
    authorise_consent,
    consent_body,
    create_consent,
    valid_consent,
)
from tests.sandbox.conftest import PSU_IP, headers
from twinrail.openbanking.domain.psd2 import OrganizationIdentifier, Psd2Role


def codes(response):
    return [m["code"] for m in response.json()["tppMessages"]]


@pytest.fixture
def alice(accounts_of):
    return accounts_of("alice")


def test_a_new_consent_is_received_and_offers_the_embedded_authorisation(ais_client, alice):
    response = ais_client.post(
        "/v1/consents",
        json=consent_body([alice[0].iban]),
        headers=headers(PSU_IP_Address=PSU_IP, PSU_ID="alice"),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["consentStatus"] == "received"
    assert response.headers["Location"] == f"/v1/consents/{body['consentId']}"
    assert response.headers["ASPSP-SCA-Approach"] == "EMBEDDED"
    assert "startAuthorisationWithPsuAuthentication" in body["_links"]
    status = ais_client.get(f"/v1/consents/{body['consentId']}/status", headers=headers())
    assert status.json() == {"consentStatus": "received"}


def test_a_consent_becomes_valid_after_password_and_otp(ais_client, alice):
    consent_id = create_consent(ais_client, consent_body([alice[0].iban]))
    start = ais_client.post(
        f"/v1/consents/{consent_id}/authorisations", headers=headers(PSU_ID="alice")
    )
    assert start.json()["scaStatus"] == "received"
    link = start.json()["_links"]["updatePsuAuthentication"]["href"]
    step = ais_client.put(
        link, json={"psuData": {"password": "alice-sandbox"}}, headers=headers(PSU_ID="alice")
    )
    assert step.json()["scaStatus"] == "scaMethodSelected"
    assert step.json()["chosenScaMethod"]["authenticationType"] == "SMS_OTP"
    assert "authoriseTransaction" in step.json()["_links"]
    done = ais_client.put(link, json={"scaAuthenticationData": "123456"}, headers=headers())
    assert done.json()["scaStatus"] == "finalised"
    assert ais_client.get(link, headers=headers()).json()["scaStatus"] == "finalised"
    ids = ais_client.get(f"/v1/consents/{consent_id}/authorisations", headers=headers()).json()
    assert ids == {"authorisationIds": [link.rsplit("/", 1)[1]]}
    consent = ais_client.get(f"/v1/consents/{consent_id}", headers=headers()).json()
    assert consent["consentStatus"] == "valid"
    assert consent["access"]["accounts"] == [{"iban": alice[0].iban}]


def test_wrong_credentials_count_against_a_limit_and_then_reject_the_consent(ais_client, alice):
    consent_id = create_consent(ais_client, consent_body([alice[0].iban]))
    start = ais_client.post(
        f"/v1/consents/{consent_id}/authorisations", headers=headers(PSU_ID="alice")
    )
    link = start.json()["_links"]["updatePsuAuthentication"]["href"]
    for _ in range(3):
        wrong = ais_client.put(
            link, json={"psuData": {"password": "guess"}}, headers=headers(PSU_ID="alice")
        )
        assert (wrong.status_code, codes(wrong)) == (401, ["PSU_CREDENTIALS_INVALID"])
    assert ais_client.get(link, headers=headers()).json()["scaStatus"] == "failed"
    status = ais_client.get(f"/v1/consents/{consent_id}/status", headers=headers())
    assert status.json()["consentStatus"] == "rejected"
    late = ais_client.put(
        link, json={"psuData": {"password": "alice-sandbox"}}, headers=headers(PSU_ID="alice")
    )
    assert (late.status_code, codes(late)) == (409, ["STATUS_INVALID"])


def test_a_wrong_otp_is_refused_and_the_right_one_still_works(ais_client, alice):
    consent_id = create_consent(ais_client, consent_body([alice[0].iban]))
    start = ais_client.post(
        f"/v1/consents/{consent_id}/authorisations", headers=headers(PSU_ID="alice")
    )
    link = start.json()["_links"]["updatePsuAuthentication"]["href"]
    ais_client.put(
        link, json={"psuData": {"password": "alice-sandbox"}}, headers=headers(PSU_ID="alice")
    )
    wrong = ais_client.put(link, json={"scaAuthenticationData": "000000"}, headers=headers())
    assert codes(wrong) == ["PSU_CREDENTIALS_INVALID"]
    right = ais_client.put(link, json={"scaAuthenticationData": "123456"}, headers=headers())
    assert right.json()["scaStatus"] == "finalised"


def test_a_psu_cannot_grant_access_to_someone_elses_account(ais_client, accounts_of):
    bobs = accounts_of("bob")[0].iban
    consent_id = create_consent(ais_client, consent_body([bobs]))
    assert authorise_consent(ais_client, consent_id) == "finalised"
    status = ais_client.get(f"/v1/consents/{consent_id}/status", headers=headers())
    assert status.json()["consentStatus"] == "rejected"


def test_the_tpp_can_delete_a_consent_once(ais_client, alice):
    consent_id = valid_consent(ais_client, [alice[0].iban])
    deleted = ais_client.delete(f"/v1/consents/{consent_id}", headers=headers())
    assert deleted.status_code == 204
    status = ais_client.get(f"/v1/consents/{consent_id}/status", headers=headers())
    assert status.json()["consentStatus"] == "terminatedByTpp"
    again = ais_client.delete(f"/v1/consents/{consent_id}", headers=headers())
    assert (again.status_code, codes(again)) == (409, ["STATUS_INVALID"])
    read = ais_client.get("/v1/accounts", headers=ais_headers(consent_id))
    assert (read.status_code, codes(read)) == (401, ["CONSENT_INVALID"])


def test_a_consent_revoked_by_the_psu_stops_access(ais_client, alice, sandbox_bank):
    consent_id = valid_consent(ais_client, [alice[0].iban])
    sandbox_bank.service.revoke_by_psu(consent_id)
    status = ais_client.get(f"/v1/consents/{consent_id}/status", headers=headers())
    assert status.json()["consentStatus"] == "revokedByPsu"
    assert codes(ais_client.get("/v1/accounts", headers=ais_headers(consent_id))) == [
        "CONSENT_INVALID"
    ]


def test_a_consent_expires_after_valid_until(ais_client, alice, bank_clock):
    until = dt.date.today() + dt.timedelta(days=5)
    consent_id = valid_consent(ais_client, [alice[0].iban], valid_until=until)
    assert ais_client.get("/v1/accounts", headers=ais_headers(consent_id)).status_code == 200
    bank_clock.advance(days=6)
    read = ais_client.get("/v1/accounts", headers=ais_headers(consent_id))
    assert (read.status_code, codes(read)) == (401, ["CONSENT_EXPIRED"])
    status = ais_client.get(f"/v1/consents/{consent_id}/status", headers=headers())
    assert status.json()["consentStatus"] == "expired"


def test_valid_until_is_capped_at_180_days(ais_client, alice):
    body = consent_body([alice[0].iban], valid_until=dt.date(9999, 12, 31))
    consent_id = create_consent(ais_client, body)
    consent = ais_client.get(f"/v1/consents/{consent_id}", headers=headers()).json()
    assert consent["validUntil"] == (dt.date.today() + dt.timedelta(days=180)).isoformat()


def test_a_new_recurring_consent_ends_the_former_one(ais_client, alice):
    first = valid_consent(ais_client, [alice[0].iban])
    second = valid_consent(ais_client, [alice[1].iban])
    assert ais_client.get(f"/v1/consents/{first}/status", headers=headers()).json() == {
        "consentStatus": "expired"
    }
    assert ais_client.get(f"/v1/consents/{second}/status", headers=headers()).json() == {
        "consentStatus": "valid"
    }


def test_a_bank_offered_consent_covers_the_accounts_the_psu_grants(ais_client, alice):
    access = {"accounts": [], "balances": [], "transactions": []}
    consent_id = create_consent(ais_client, consent_body(access=access))
    assert authorise_consent(ais_client, consent_id) == "finalised"
    listed = ais_client.get("/v1/accounts", headers=ais_headers(consent_id)).json()["accounts"]
    assert sorted(a["iban"] for a in listed) == sorted(a.iban for a in alice)


def test_available_accounts_lists_accounts_but_not_their_details(ais_client, alice):
    consent_id = create_consent(
        ais_client,
        consent_body(access={"availableAccounts": "allAccounts"}, recurring=False, frequency=1),
    )
    assert authorise_consent(ais_client, consent_id) == "finalised"
    listed = ais_client.get("/v1/accounts", headers=ais_headers(consent_id))
    assert len(listed.json()["accounts"]) == len(alice)
    assert "_links" not in listed.json()["accounts"][0]
    details = ais_client.get(
        f"/v1/accounts/{alice[0].resource_id}", headers=ais_headers(consent_id)
    )
    assert codes(details) == ["CONSENT_INVALID"]
    with_balance = ais_client.get("/v1/accounts?withBalance=true", headers=ais_headers(consent_id))
    assert codes(with_balance) == ["CONSENT_INVALID"]


def test_another_tpps_consent_is_unknown_to_this_tpp(ais_client, client_for, qtsp, alice):
    consent_id = valid_consent(ais_client, [alice[0].iban])
    other = issue_tpp(qtsp, "other-tpp", org_id=OrganizationIdentifier("DE", "BAFIN", "999"))
    other_client = client_for(other.cert_path, other.key_path)
    for response in (
        other_client.get(f"/v1/consents/{consent_id}", headers=headers()),
        other_client.get("/v1/accounts", headers=ais_headers(consent_id)),
    ):
        assert (response.status_code, codes(response)) == (403, ["CONSENT_UNKNOWN"])
    assert Psd2Role.PSP_AI  # the other TPP has the AIS role: only ownership differs


def test_unknown_consents_and_authorisations_are_reported_as_such(ais_client, alice):
    missing = ais_client.get("/v1/consents/cns-missing", headers=headers())
    assert (missing.status_code, codes(missing)) == (403, ["CONSENT_UNKNOWN"])
    consent_id = create_consent(ais_client, consent_body([alice[0].iban]))
    unknown = ais_client.get(f"/v1/consents/{consent_id}/authorisations/nope", headers=headers())
    assert (unknown.status_code, codes(unknown)) == (404, ["RESOURCE_UNKNOWN"])


def test_only_the_psu_named_at_creation_can_authorise_the_consent(ais_client, alice):
    consent_id = create_consent(ais_client, consent_body([alice[0].iban]), psu_id="alice")
    start = ais_client.post(
        f"/v1/consents/{consent_id}/authorisations", headers=headers(PSU_ID="bob")
    )
    assert (start.status_code, codes(start)) == (401, ["PSU_CREDENTIALS_INVALID"])


def test_an_abandoned_sca_times_out_and_the_consent_is_rejected(ais_client, alice, bank_clock):
    consent_id = create_consent(ais_client, consent_body([alice[0].iban]))
    start = ais_client.post(
        f"/v1/consents/{consent_id}/authorisations", headers=headers(PSU_ID="alice")
    )
    link = start.json()["_links"]["updatePsuAuthentication"]["href"]
    ais_client.put(
        link, json={"psuData": {"password": "alice-sandbox"}}, headers=headers(PSU_ID="alice")
    )
    bank_clock.advance(minutes=11)
    late = ais_client.put(link, json={"scaAuthenticationData": "123456"}, headers=headers())
    assert (late.status_code, codes(late)) == (409, ["STATUS_INVALID"])
    assert ais_client.get(link, headers=headers()).json()["scaStatus"] == "failed"
    status = ais_client.get(f"/v1/consents/{consent_id}/status", headers=headers())
    assert status.json()["consentStatus"] == "rejected"


def test_polling_an_abandoned_sca_reports_it_failed(ais_client, alice, bank_clock):
    consent_id = create_consent(ais_client, consent_body([alice[0].iban]))
    start = ais_client.post(
        f"/v1/consents/{consent_id}/authorisations", headers=headers(PSU_ID="alice")
    )
    link = start.json()["_links"]["scaStatus"]["href"]
    assert ais_client.get(link, headers=headers()).json()["scaStatus"] == "received"
    bank_clock.advance(minutes=11)
    assert ais_client.get(link, headers=headers()).json()["scaStatus"] == "failed"
    status = ais_client.get(f"/v1/consents/{consent_id}/status", headers=headers())
    assert status.json()["consentStatus"] == "rejected"
