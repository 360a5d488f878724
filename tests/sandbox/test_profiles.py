"""Bank profiles: the YAML files and their model, and what a profile changes at a running bank
over mutual TLS (quirks, consent lifetime, several banks side by side, the CLI)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from tests.openbanking.pki_builders import issue_tpp, new_qtsp
from tests.sandbox.ais_flow import (
    ais_headers,
    authorise_consent,
    consent_body,
    create_consent,
    valid_consent,
)
from tests.sandbox.conftest import headers
from tests.sandbox.pis_flow import SCT, authorise_payment, entries, initiate, payment_body
from tests.sandbox.profile_banks import cli_bank_answer, running_bank
from twinrail.cli.sandbox_cli import app as cli
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.sandbox.bank.profile import (
    BankProfile,
    Lifetimes,
    Quirks,
    load_profile,
    profile_names,
)

ROLES = (Psd2Role.PSP_AI, Psd2Role.PSP_PI)


# -- the profile files and model ------------------------------------------------------------
def test_every_shipped_profile_loads_and_is_named_after_its_file():
    names = profile_names()
    assert {"default", "strict", "flaky", "quirky"} <= set(names)
    for name in names:
        profile, source = load_profile(name)
        assert profile.name == name and source is not None and source.stem == name
        assert profile.default_sca_approach in profile.sca_approaches


def test_the_shipped_profiles_say_what_they_promise():
    assert load_profile("strict")[0].signatures_required
    flaky = load_profile("flaky")[0].faults
    assert flaky.server_error_every and flaky.drop_connection_every
    assert load_profile("quirky")[0].quirks.omit_transaction_ids
    assert not load_profile("default")[0].faults.any


def test_a_name_without_a_file_runs_with_the_defaults():
    profile, source = load_profile("second-bank")
    assert source is None and profile == BankProfile(name="second-bank")
    assert not profile.signatures_required and profile.rate_limit is None


def test_a_profile_directory_is_searched_before_the_shipped_profiles(tmp_path):
    (tmp_path / "default.yaml").write_text("signatures_required: true\n")
    profile, source = load_profile("default", tmp_path)
    assert profile.signatures_required and source == tmp_path / "default.yaml"


@pytest.mark.parametrize(
    "text",
    [
        "sca_approaches: [embedded]\ndefault_sca_approach: redirect\n",
        "sca_approaches: [oauth]\n",
        "signatures: true\n",  # an unknown key is a typo, not a silent default
        "faults: {server_error_rate: 1.5}\n",
        "lifetimes: {consent_max_days: 5000}\n",
        "name: other\n",
        "- a list\n",
    ],
)
def test_a_faulty_profile_file_is_refused_with_its_path(tmp_path, text):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ValueError, match="bad.yaml"):
        load_profile("bad", tmp_path)


def test_the_cli_lists_the_profiles():
    result = CliRunner().invoke(cli, ["profiles"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert listed["strict"]["signatures_required"] is True
    assert listed["default"]["sca_approaches"][0] == listed["default"]["default_sca_approach"]


# -- profiles at a running bank -------------------------------------------------------------
@pytest.fixture(scope="module")
def qwac(qtsp):
    return issue_tpp(qtsp, "profile-qwac", ROLES)


@pytest.fixture(scope="module")
def quirky(qtsp, session_clock, tmp_path_factory):
    profile = BankProfile(
        name="quirky-test",
        quirks=Quirks(
            omit_transaction_ids=True, pending_amount_change_minor=150, booking_lag_days=2
        ),
    )
    with running_bank(profile, qtsp, tmp_path_factory.mktemp("quirky"), session_clock) as bank:
        yield bank


def report(client, consent_id, account_id):
    response = client.get(
        f"/v1/accounts/{account_id}/transactions?bookingStatus=both&itemsPerPage=500",
        headers=ais_headers(consent_id),
    )
    assert response.status_code == 200, response.text
    return response.json()["transactions"]


def test_a_quirky_bank_reports_no_transaction_ids_and_value_dates_before_booking(
    quirky, qwac, accounts_of
):
    client = quirky.client(qwac)
    account = next(a for a in accounts_of("alice") if a.cash_account_type == "CACC")
    consent_id = valid_consent(client, [account.iban])
    transactions = report(client, consent_id, account.resource_id)
    items = transactions["booked"] + transactions["pending"]
    assert items and not any("transactionId" in item for item in items)
    for item in transactions["booked"]:
        booked = dt.date.fromisoformat(item["bookingDate"])
        assert dt.date.fromisoformat(item["valueDate"]) == booked - dt.timedelta(days=2)


def test_a_quirky_bank_books_a_debit_for_more_than_was_pending(
    quirky, qwac, accounts_of, bank_clock
):
    client = quirky.client(qwac)
    account = next(a for a in accounts_of("bob") if a.cash_account_type == "CACC")
    body = payment_body(account.iban, "45.00", endToEndIdentification="QUIRK-E2E")
    created = initiate(client, body, SCT)
    assert created.status_code == 201, created.text
    payment_id = created.json()["paymentId"]
    if created.json()["transactionStatus"] == "RCVD":
        done = authorise_payment(client, SCT, payment_id, psu_id="bob")
        assert done.json()["scaStatus"] == "finalised", done.text
    entry_id = f"{account.resource_id}-{payment_id[4:20]}"
    assert entries(quirky.bank, account.resource_id)[entry_id].amount == -4500
    bank_clock.advance(days=1, minutes=1)
    consent_id = create_consent(client, consent_body([account.iban]), psu_id="bob")
    assert authorise_consent(client, consent_id, "bob", "bob-sandbox", "654321") == "finalised"
    booked = report(client, consent_id, account.resource_id)["booked"]
    ours = [t for t in booked if t["entryReference"] == "QUIRK-E2E"]
    assert [t["transactionAmount"]["amount"] for t in ours] == ["-46.50"]
    assert entries(quirky.bank, account.resource_id)[entry_id].amount == -4650


def test_a_profile_shortens_the_consent_lifetime(qtsp, session_clock, tmp_path, qwac):
    profile = BankProfile(name="short-consents", lifetimes=Lifetimes(consent_max_days=30))
    with running_bank(profile, qtsp, tmp_path, session_clock) as bank:
        client = bank.client(qwac)
        consent_id = create_consent(client, consent_body([], valid_until=dt.date(2099, 1, 1)))
        consent = client.get(f"/v1/consents/{consent_id}", headers=headers()).json()
    expected = session_clock().date() + dt.timedelta(days=30)
    assert consent["validUntil"] == expected.isoformat()


def test_two_banks_with_different_profiles_run_at_once_with_their_own_data(
    qtsp, session_clock, tmp_path, qwac
):
    plain = BankProfile(name="bank-a")
    strict = BankProfile(name="bank-b", signatures_required=True)
    with (
        running_bank(plain, qtsp, tmp_path, session_clock) as a,
        running_bank(strict, qtsp, tmp_path, session_clock) as b,
    ):
        assert a.url != b.url
        consent_id = create_consent(a.client(qwac), consent_body([]))
        at_b = b.client(qwac).get(f"/v1/consents/{consent_id}", headers=headers())
        assert at_b.json()["tppMessages"][0]["code"] == "SIGNATURE_MISSING"
        known_at_a = a.client(qwac).get(f"/v1/consents/{consent_id}", headers=headers())
        assert known_at_a.status_code == 200
    assert (tmp_path / "bank-a.db").exists() and (tmp_path / "bank-b.db").exists()


def test_the_cli_starts_a_bank_with_the_named_profile(tmp_path):
    qtsp = new_qtsp(tmp_path / "pki")
    qwac = issue_tpp(qtsp, "cli-qwac", ROLES)
    response = cli_bank_answer("strict", qtsp, qwac, tmp_path / "bank", "/v1/consents/cns-x")
    assert response.json()["tppMessages"][0]["code"] == "SIGNATURE_MISSING"
    assert (tmp_path / "bank" / "strict.db").exists()
