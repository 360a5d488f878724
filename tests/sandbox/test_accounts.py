"""Account list, details, balances and transaction reports under a valid consent."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.openbanking.pki_builders import issue_tpp
from tests.sandbox.ais_flow import ais_headers, authorise_consent, consent_body, create_consent
from twinrail.openbanking.domain.psd2 import OrganizationIdentifier
from twinrail.sandbox.bank.domain.accounts import format_amount


def codes(response):
    return [m["code"] for m in response.json()["tppMessages"]]


@pytest.fixture(scope="module")
def reader(client_for, qtsp):
    """A TPP of its own, so that other tests' recurring consents never supersede this one's."""
    cert = issue_tpp(qtsp, "reader", org_id=OrganizationIdentifier("DE", "BAFIN", "READER"))
    return client_for(cert.cert_path, cert.key_path)


@pytest.fixture(scope="module")
def alice_consent(reader, accounts_of):
    """A consent on Alice's current account only (her other account stays outside)."""
    alice = accounts_of("alice")
    current = next(a for a in alice if a.cash_account_type == "CACC")
    savings = next(a for a in alice if a.cash_account_type == "SVGS")
    body = consent_body([current.iban], frequency=100)
    consent_id = create_consent(reader, body)
    assert authorise_consent(reader, consent_id) == "finalised"
    return consent_id, current, savings


def test_the_account_list_shows_only_consented_accounts_with_links(reader, alice_consent):
    consent_id, current, _ = alice_consent
    body = reader.get("/v1/accounts", headers=ais_headers(consent_id)).json()
    assert [a["iban"] for a in body["accounts"]] == [current.iban]
    links = body["accounts"][0]["_links"]
    assert links["balances"]["href"] == f"/v1/accounts/{current.resource_id}/balances"
    assert links["transactions"]["href"] == f"/v1/accounts/{current.resource_id}/transactions"


def test_balances_add_up_to_opening_plus_booked_transactions(reader, alice_consent, sandbox_bank):
    consent_id, current, _ = alice_consent
    body = reader.get(
        f"/v1/accounts/{current.resource_id}/balances", headers=ais_headers(consent_id)
    ).json()
    assert body["account"]["iban"] == current.iban
    by_type = {b["balanceType"]: b["balanceAmount"]["amount"] for b in body["balances"]}
    with sandbox_bank.service.engine.connect() as conn, conn.begin():
        from twinrail.sandbox.bank.store.bank_store import BankStore

        history = BankStore(conn).transactions_of(current.resource_id)
    booked = sum(t.amount for t in history if t.status == "booked")
    pending = sum(t.amount for t in history if t.status == "pending")
    assert by_type["closingBooked"] == format_amount(current.opening_booked + booked)
    assert by_type["expected"] == format_amount(current.opening_booked + booked + pending)
    details = reader.get(
        f"/v1/accounts/{current.resource_id}?withBalance=true", headers=ais_headers(consent_id)
    ).json()
    assert details["account"]["balances"] == body["balances"]


def test_booked_pending_and_both_select_the_lists(reader, alice_consent):
    consent_id, current, _ = alice_consent
    url = f"/v1/accounts/{current.resource_id}/transactions"
    booked = reader.get(
        url, params={"bookingStatus": "booked"}, headers=ais_headers(consent_id)
    ).json()
    pending = reader.get(
        url, params={"bookingStatus": "pending"}, headers=ais_headers(consent_id)
    ).json()
    both = reader.get(url, params={"bookingStatus": "both"}, headers=ais_headers(consent_id)).json()
    assert set(booked["transactions"]) == {"booked", "_links"}
    assert set(pending["transactions"]) == {"pending", "_links"}
    assert set(both["transactions"]) == {"booked", "pending", "_links"}
    assert all("bookingDate" in t for t in booked["transactions"]["booked"])
    assert all("bookingDate" not in t for t in pending["transactions"]["pending"])
    assert pending["transactions"]["pending"]


def test_date_range_filters_booked_transactions(reader, alice_consent):
    consent_id, current, _ = alice_consent
    date_from = dt.date.today() - dt.timedelta(days=30)
    date_to = dt.date.today() - dt.timedelta(days=10)
    body = reader.get(
        f"/v1/accounts/{current.resource_id}/transactions",
        params={
            "bookingStatus": "booked",
            "dateFrom": date_from.isoformat(),
            "dateTo": date_to.isoformat(),
            "itemsPerPage": "500",
        },
        headers=ais_headers(consent_id),
    ).json()
    days = [dt.date.fromisoformat(t["bookingDate"]) for t in body["transactions"]["booked"]]
    assert days and all(date_from <= d <= date_to for d in days)
    assert days == sorted(days, reverse=True)


def test_pagination_links_walk_every_transaction_exactly_once(reader, alice_consent):
    consent_id, current, _ = alice_consent
    url = f"/v1/accounts/{current.resource_id}/transactions?bookingStatus=booked&itemsPerPage=25"
    seen, pages = [], 0
    first = reader.get(url, headers=ais_headers(consent_id)).json()["transactions"]
    assert "previous" not in first["_links"] and "next" in first["_links"]
    report = first
    while True:
        pages += 1
        seen += [t["transactionId"] for t in report["booked"]]
        if "next" not in report["_links"]:
            break
        report = reader.get(
            report["_links"]["next"]["href"], headers=ais_headers(consent_id)
        ).json()["transactions"]
    everything = reader.get(
        url.replace("itemsPerPage=25", "itemsPerPage=500"), headers=ais_headers(consent_id)
    ).json()["transactions"]["booked"]
    assert len(seen) == len(set(seen)) == len(everything) > 100
    last_index = parse_qs(urlsplit(first["_links"]["last"]["href"]).query)["pageIndex"]
    assert int(last_index[0]) == pages - 1


def test_an_account_outside_the_consent_is_consent_invalid(reader, alice_consent):
    consent_id, _, savings = alice_consent
    for path in ("", "/balances", "/transactions?bookingStatus=booked"):
        response = reader.get(
            f"/v1/accounts/{savings.resource_id}{path}", headers=ais_headers(consent_id)
        )
        assert (response.status_code, codes(response)) == (401, ["CONSENT_INVALID"])


def test_an_unknown_account_is_resource_unknown(reader, alice_consent):
    consent_id, _, _ = alice_consent
    response = reader.get("/v1/accounts/acc-nope/balances", headers=ais_headers(consent_id))
    assert (response.status_code, codes(response)) == (404, ["RESOURCE_UNKNOWN"])


def test_balances_need_balance_access_in_the_consent(ais_client, accounts_of):
    current = accounts_of("bob")[0]
    body = consent_body(access={"accounts": [{"iban": current.iban}]})
    consent_id = create_consent(ais_client, body, psu_id="bob")
    assert authorise_consent(ais_client, consent_id, "bob", "bob-sandbox", "654321") == "finalised"
    assert (
        ais_client.get(
            f"/v1/accounts/{current.resource_id}", headers=ais_headers(consent_id)
        ).status_code
        == 200
    )
    for path in ("/balances", "?withBalance=true"):
        response = ais_client.get(
            f"/v1/accounts/{current.resource_id}{path}", headers=ais_headers(consent_id)
        )
        assert codes(response) == ["CONSENT_INVALID"]
    assert codes(
        ais_client.get("/v1/accounts?withBalance=true", headers=ais_headers(consent_id))
    ) == ["CONSENT_INVALID"]


def test_a_received_consent_gives_no_access_yet(ais_client, accounts_of):
    consent_id = create_consent(ais_client, consent_body([accounts_of("alice")[0].iban]))
    response = ais_client.get("/v1/accounts", headers=ais_headers(consent_id))
    assert (response.status_code, codes(response)) == (401, ["CONSENT_INVALID"])


def test_a_transaction_can_be_read_by_its_id(reader, alice_consent):
    consent_id, current, _ = alice_consent
    base = f"/v1/accounts/{current.resource_id}/transactions"
    listed = reader.get(f"{base}?bookingStatus=booked", headers=ais_headers(consent_id)).json()
    first = listed["transactions"]["booked"][0]
    single = reader.get(f"{base}/{first['transactionId']}", headers=ais_headers(consent_id))
    assert single.json() == {"transactionsDetails": first}
    missing = reader.get(f"{base}/nope", headers=ais_headers(consent_id))
    assert (missing.status_code, codes(missing)) == (404, ["RESOURCE_UNKNOWN"])


def test_transactions_with_balance_carry_the_balances(reader, alice_consent):
    consent_id, current, _ = alice_consent
    url = f"/v1/accounts/{current.resource_id}/transactions?bookingStatus=pending&withBalance=true"
    body = reader.get(url, headers=ais_headers(consent_id)).json()
    assert {b["balanceType"] for b in body["balances"]} == {
        "closingBooked",
        "expected",
        "interimAvailable",
    }
