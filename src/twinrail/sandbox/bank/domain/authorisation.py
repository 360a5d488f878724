"""Authorisation sub-resources (`.../authorisations/{id}`) and their SCA state machine.

This slice implements the embedded approach with one SCA method (SMS OTP), enough for a consent
to become valid through the spec's own endpoints:

    received --PUT psuData(password)--> scaMethodSelected --PUT scaAuthenticationData--> finalised
        \\______________ wrong password / OTP `max_attempts` times ______________/--> failed
    any open status --(SCA_TIMEOUT after the start, at the next look)--> failed

Redirect and decoupled approaches plug in as further transitions on the same resource: they set
`sca_approach` and move `sca_status` from their own pages, the TPP-facing resource is unchanged.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, replace
from enum import StrEnum

from twinrail.sandbox.bank.domain.accounts import Psu
from twinrail.sandbox.bank.domain.errors import (
    BankRejection,
    FormatError,
    PsuCredentialsInvalid,
    StatusInvalid,
)

__all__ = [
    "ScaStatus",
    "ScaApproach",
    "Authorisation",
    "StepOutcome",
    "SMS_OTP_METHOD",
    "MAX_ATTEMPTS",
    "SCA_TIMEOUT",
    "abandon_if_stale",
    "authenticate_psu",
    "authorise_transaction",
]

MAX_ATTEMPTS = 3
SCA_TIMEOUT = dt.timedelta(minutes=10)  # from the start of the authorisation to its end
SMS_OTP_METHOD = {
    "authenticationType": "SMS_OTP",
    "authenticationMethodId": "sms-otp",
    "name": "SMS",
}


class ScaStatus(StrEnum):
    """The scaStatus values of the spec."""

    RECEIVED = "received"
    PSU_IDENTIFIED = "psuIdentified"
    PSU_AUTHENTICATED = "psuAuthenticated"
    SCA_METHOD_SELECTED = "scaMethodSelected"
    STARTED = "started"
    UNCONFIRMED = "unconfirmed"
    FINALISED = "finalised"
    FAILED = "failed"
    EXEMPTED = "exempted"

    @property
    def is_final(self) -> bool:
        """Whether the SCA has ended (successfully or not)."""
        return self in {ScaStatus.FINALISED, ScaStatus.FAILED, ScaStatus.EXEMPTED}


class ScaApproach(StrEnum):
    """How the PSU authenticates (ASPSP-SCA-Approach header)."""

    EMBEDDED = "EMBEDDED"
    REDIRECT = "REDIRECT"
    DECOUPLED = "DECOUPLED"


@dataclass(frozen=True)
class Authorisation:
    """One authorisation of a resource (a consent here; payments and cancellations later)."""

    authorisation_id: str
    resource_type: str  # "consent"
    resource_id: str
    tpp_id: str
    sca_status: ScaStatus
    sca_approach: ScaApproach
    psu_id: str | None
    failed_attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class StepOutcome:
    """The authorisation after a PSU step, and the rejection to report if the step failed.

    A failed step still changes state (the attempt counter), so the service stores the new
    authorisation first and raises the rejection afterwards.
    """

    authorisation: Authorisation
    rejection: BankRejection | None = None


def _fail(auth: Authorisation, now: dt.datetime, what: str) -> StepOutcome:
    attempts = auth.failed_attempts + 1
    status = ScaStatus.FAILED if attempts >= MAX_ATTEMPTS else auth.sca_status
    failed = replace(auth, failed_attempts=attempts, sca_status=status, updated_at=now)
    left = max(0, MAX_ATTEMPTS - attempts)
    return StepOutcome(failed, PsuCredentialsInvalid(f"{what} is wrong", attempts_left=left))


def _check_open(auth: Authorisation, expected: ScaStatus) -> None:
    if auth.sca_status is not expected:
        raise StatusInvalid(
            f"authorisation is {auth.sca_status.value}, not {expected.value}",
            location="path",
            sca_status=auth.sca_status.value,
        )


def authenticate_psu(
    auth: Authorisation, psu: Psu | None, psu_id: str | None, password: str, now: dt.datetime
) -> StepOutcome:
    """Check the PSU's password; on success the single SCA method is selected and an OTP sent."""
    _check_open(auth, ScaStatus.RECEIVED)
    if not psu_id:
        raise FormatError("PSU-ID header is required to authenticate the PSU", location="header")
    if auth.psu_id is not None and auth.psu_id != psu_id:
        raise PsuCredentialsInvalid("PSU-ID differs from the one that started the SCA")
    if psu is None or not hmac.compare_digest(psu.password, password):
        return _fail(replace(auth, psu_id=psu_id), now, "PSU-ID or password")
    return StepOutcome(
        replace(auth, psu_id=psu.psu_id, sca_status=ScaStatus.SCA_METHOD_SELECTED, updated_at=now)
    )


def authorise_transaction(
    auth: Authorisation, psu: Psu | None, otp: str, now: dt.datetime
) -> StepOutcome:
    """Check the OTP; on success the SCA is finalised."""
    _check_open(auth, ScaStatus.SCA_METHOD_SELECTED)
    if psu is None or not hmac.compare_digest(psu.otp, otp):
        return _fail(auth, now, "OTP")
    return StepOutcome(replace(auth, sca_status=ScaStatus.FINALISED, updated_at=now))


def abandon_if_stale(auth: Authorisation, now: dt.datetime) -> Authorisation | None:
    """The authorisation failed by timeout if the PSU left it unfinished too long, else None."""
    if auth.sca_status.is_final or now - auth.created_at <= SCA_TIMEOUT:
        return None
    return replace(auth, sca_status=ScaStatus.FAILED, updated_at=now)
