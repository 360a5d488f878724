"""AIS needs SCA again 180 days after the PSU's last SCA, even within a longer validUntil: the
consent then reads `expired` and access is CONSENT_EXPIRED (401); the TPP renews with a new
consent and a new SCA."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.openbanking.pki_builders import issue_tpp
from tests.sandbox.ais_flow import ais_headers, consent_body, create_consent, valid_consent
from tests.sandbox.conftest import headers
from tests.sandbox.profile_banks import running_bank
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.sandbox.bank.domain.consents import (
    SCA_RENEWAL,
    Consent,
    ConsentAccess,
    ConsentStatus,
)
from twinrail.sandbox.bank.profile import BankProfile, Lifetimes

T0 = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


def valid(recurring: bool, valid_until: dt.date) -> Consent:
    return Consent(
        consent_id="cns-1", tpp_id="PSDDE-BAFIN-1", psu_id="alice", status=ConsentStatus.VALID,
        requested=ConsentAccess(), granted=ConsentAccess(), recurring=recurring,
        valid_until=valid_until, frequency_per_day=4, combined_service=False, created_at=T0,
        last_action_date=T0.date(), sca_at=T0,
    )  # fmt: skip


@given(
    elapsed=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=1000)),
    lifetime=st.integers(min_value=1, max_value=1000),
)
def test_a_consent_is_valid_until_its_end_or_180_days_after_the_last_sca(elapsed, lifetime):
    consent = valid(True, T0.date() + dt.timedelta(days=lifetime))
    now = T0 + elapsed
    expected_expired = elapsed > SCA_RENEWAL or now.date() > consent.valid_until
    assert (consent.status_at(now) is ConsentStatus.EXPIRED) == expected_expired


@pytest.fixture(scope="module")
def long_consent_bank(qtsp, session_clock, tmp_path_factory):
    profile = BankProfile(name="long-consents", lifetimes=Lifetimes(consent_max_days=365))
    directory = tmp_path_factory.mktemp("long")
    with running_bank(profile, qtsp, directory, session_clock) as bank:
        yield bank


def test_access_after_180_days_without_sca_is_consent_expired(
    long_consent_bank, qtsp, accounts_of, bank_clock
):
    client = long_consent_bank.client(issue_tpp(qtsp, "renewal-tpp", (Psd2Role.PSP_AI,)))
    iban = accounts_of("alice")[0].iban
    until = bank_clock().date() + dt.timedelta(days=300)
    consent_id = valid_consent(client, [iban], valid_until=until)
    granted = client.get(f"/v1/consents/{consent_id}", headers=headers()).json()
    assert granted["validUntil"] == until.isoformat()  # the profile allows a year

    bank_clock.advance(days=179)
    assert client.get("/v1/accounts", headers=ais_headers(consent_id)).status_code == 200

    bank_clock.advance(days=2)
    refused = client.get("/v1/accounts", headers=ais_headers(consent_id))
    assert refused.status_code == 401
    assert [m["code"] for m in refused.json()["tppMessages"]] == ["CONSENT_EXPIRED"]
    status = client.get(f"/v1/consents/{consent_id}/status", headers=headers()).json()
    assert status == {"consentStatus": "expired"}

    # Renewal: a new consent with a new SCA gives access again.
    renewed = valid_consent(client, [iban], valid_until=until)
    assert client.get("/v1/accounts", headers=ais_headers(renewed)).status_code == 200


def test_the_default_profile_still_caps_valid_until_at_180_days(client_for, qtsp, bank_clock):
    cert = issue_tpp(qtsp, "renewal-default", (Psd2Role.PSP_AI,))
    client = client_for(cert.cert_path, cert.key_path)
    body = consent_body([], valid_until=dt.date(2099, 1, 1))
    consent_id = create_consent(client, body)
    consent = client.get(f"/v1/consents/{consent_id}", headers=headers()).json()
    assert consent["validUntil"] == (bank_clock().date() + dt.timedelta(days=180)).isoformat()
