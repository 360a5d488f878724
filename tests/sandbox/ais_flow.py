"""Steps a TPP takes against the sandbox bank, shared by the AIS tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.sandbox.conftest import PSU_IP, headers

__all__ = ["consent_body", "create_consent", "authorise_consent", "valid_consent", "ais_headers"]


def consent_body(
    ibans: list[str] | None = None,
    *,
    recurring: bool = True,
    frequency: int = 4,
    valid_until: dt.date | None = None,
    access: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A POST /v1/consents body for `ibans` (accounts, balances and transactions)."""
    refs = [{"iban": iban} for iban in ibans or []]
    return {
        "access": access or {"accounts": refs, "balances": refs, "transactions": refs},
        "recurringIndicator": recurring,
        "validUntil": (valid_until or dt.date.today() + dt.timedelta(days=90)).isoformat(),
        "frequencyPerDay": frequency,
        "combinedServiceIndicator": False,
    }


def create_consent(client: httpx.Client, body: dict[str, Any], psu_id: str = "alice") -> str:
    """Create a consent and return its id."""
    response = client.post(
        "/v1/consents", json=body, headers=headers(PSU_IP_Address=PSU_IP, PSU_ID=psu_id)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["consentId"])


def authorise_consent(
    client: httpx.Client, consent_id: str, psu_id: str = "alice", password: str = "alice-sandbox",
    otp: str = "123456",
) -> str:  # fmt: skip
    """The embedded SCA: start, PSU password, OTP; returns the final scaStatus."""
    started = client.post(
        f"/v1/consents/{consent_id}/authorisations", headers=headers(PSU_ID=psu_id)
    )
    assert started.status_code == 201, started.text
    link = started.json()["_links"]["updatePsuAuthentication"]["href"]
    step = client.put(
        link, json={"psuData": {"password": password}}, headers=headers(PSU_ID=psu_id)
    )
    assert step.status_code == 200, step.text
    done = client.put(link, json={"scaAuthenticationData": otp}, headers=headers(PSU_ID=psu_id))
    assert done.status_code == 200, done.text
    return str(done.json()["scaStatus"])


def valid_consent(client: httpx.Client, ibans: list[str], **kwargs: Any) -> str:
    """A consent for `ibans` that the PSU has authorised."""
    consent_id = create_consent(client, consent_body(ibans, **kwargs))
    assert authorise_consent(client, consent_id) == "finalised"
    return consent_id


def ais_headers(consent_id: str, *, psu_present: bool = True) -> dict[str, str]:
    """Headers of an AIS data request, with or without the PSU present."""
    extra = {"Consent_ID": consent_id}
    if psu_present:
        extra["PSU_IP_Address"] = PSU_IP
    return headers(**extra)
