"""Authorisation sub-resources (`.../authorisations/{id}`) and their SCA state machine.

One resource, three approaches (the bank picks one with `choose_approach`), one SCA method each:

    embedded   received [--PUT PSU-ID only--> psuIdentified] --PUT password--> scaMethodSelected
               --PUT OTP--> finalised
    redirect   received --login page--> psuAuthenticated --"send code"--> scaMethodSelected
               --OTP page (OTP bound to amount and payee)--> finalised
    decoupled  received --push to the bank app--> started --PSU approves--> finalised
                                                          --PSU rejects---> failed
    exempted   created final: the bank waived SCA (see `exemptions`)

In every approach: a wrong password or OTP `MAX_ATTEMPTS` times, or the PSU cancelling, ends in
`failed`; any open status `SCA_TIMEOUT` after the start fails at the next look (sandbox time).
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
    ServiceInvalid,
    StatusInvalid,
)

__all__ = [
    "ScaStatus",
    "ScaApproach",
    "ScaPolicy",
    "Authorisation",
    "StepOutcome",
    "SMS_OTP_METHOD",
    "MAX_ATTEMPTS",
    "SCA_TIMEOUT",
    "choose_approach",
    "abandon_if_stale",
    "identify_psu",
    "authenticate_psu",
    "authorise_transaction",
    "log_in",
    "send_otp",
    "authorise_linked_transaction",
    "cancel_by_psu",
    "push_to_app",
    "approve_in_app",
    "reject_in_app",
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
class ScaPolicy:
    """Which SCA approaches the bank offers, the one it uses without a TPP preference, and
    whether it applies SCA exemptions to payments."""

    approaches: frozenset[ScaApproach] = frozenset(ScaApproach)
    default_approach: ScaApproach = ScaApproach.EMBEDDED
    exemptions: bool = False

    def __post_init__(self) -> None:
        if self.default_approach not in self.approaches:
            raise ValueError("the default SCA approach must be one the bank offers")


def choose_approach(
    policy: ScaPolicy, *, redirect_preferred: bool | None, decoupled_preferred: bool | None
) -> ScaApproach:
    """The approach for a new authorisation, honouring the TPP's preference headers where the
    bank offers what they ask for (the spec leaves the final choice to the bank)."""
    offered = policy.approaches
    if redirect_preferred is True and ScaApproach.REDIRECT in offered:
        return ScaApproach.REDIRECT
    if decoupled_preferred is True and ScaApproach.DECOUPLED in offered:
        return ScaApproach.DECOUPLED
    if redirect_preferred is False and policy.default_approach is ScaApproach.REDIRECT:
        # "Not redirected": embedded unless the TPP also declined decoupled.
        for approach in (ScaApproach.EMBEDDED, ScaApproach.DECOUPLED):
            if approach in offered and not (
                approach is ScaApproach.DECOUPLED and decoupled_preferred is False
            ):
                return approach
    if decoupled_preferred is False and policy.default_approach is ScaApproach.DECOUPLED:
        for approach in (ScaApproach.EMBEDDED, ScaApproach.REDIRECT):
            if approach in offered and not (
                approach is ScaApproach.REDIRECT and redirect_preferred is False
            ):
                return approach
    return policy.default_approach


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
    redirect_uri: str | None = None  # redirect approach: where the PSU goes back to the TPP
    nok_redirect_uri: str | None = None  # ... after a failed or cancelled SCA, if the TPP asked


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


def _check_open(
    auth: Authorisation, *expected: ScaStatus, approach: ScaApproach = ScaApproach.EMBEDDED
) -> None:
    if auth.sca_approach is not approach:
        raise ServiceInvalid(
            f"this step is not part of the {auth.sca_approach.value.lower()} approach",
            location="path",
        )
    if auth.sca_status not in expected:
        raise StatusInvalid(
            f"authorisation is {auth.sca_status.value}, not {expected[0].value}",
            location="path",
            sca_status=auth.sca_status.value,
        )


def identify_psu(auth: Authorisation, psu_id: str | None, now: dt.datetime) -> Authorisation:
    """The TPP named the PSU (PSU-ID) before the PSU authenticated."""
    _check_open(auth, ScaStatus.RECEIVED, approach=auth.sca_approach)
    if not psu_id:
        raise FormatError("PSU-ID header is required to identify the PSU", location="header")
    if auth.psu_id is not None and auth.psu_id != psu_id:
        raise PsuCredentialsInvalid("PSU-ID differs from the one that started the SCA")
    return replace(auth, psu_id=psu_id, sca_status=ScaStatus.PSU_IDENTIFIED, updated_at=now)


def authenticate_psu(
    auth: Authorisation, psu: Psu | None, psu_id: str | None, password: str, now: dt.datetime
) -> StepOutcome:
    """Check the PSU's password; on success the single SCA method is selected and an OTP sent."""
    _check_open(auth, ScaStatus.RECEIVED, ScaStatus.PSU_IDENTIFIED)
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


def log_in(
    auth: Authorisation, psu: Psu | None, psu_id: str, password: str, now: dt.datetime
) -> StepOutcome:
    """Redirect: the PSU logs in on the bank's page; the TPP's PSU-ID, if any, must match."""
    _check_open(auth, ScaStatus.RECEIVED, ScaStatus.PSU_IDENTIFIED, approach=ScaApproach.REDIRECT)
    if auth.psu_id is not None and auth.psu_id != psu_id:
        return _fail(auth, now, "PSU-ID or password")
    if psu is None or not hmac.compare_digest(psu.password, password):
        return _fail(auth, now, "PSU-ID or password")
    return StepOutcome(
        replace(auth, psu_id=psu.psu_id, sca_status=ScaStatus.PSU_AUTHENTICATED, updated_at=now)
    )


def send_otp(auth: Authorisation, now: dt.datetime) -> Authorisation:
    """Redirect: the logged-in PSU chose the SMS code; one bound to the transaction is sent."""
    _check_open(auth, ScaStatus.PSU_AUTHENTICATED, approach=ScaApproach.REDIRECT)
    return replace(auth, sca_status=ScaStatus.SCA_METHOD_SELECTED, updated_at=now)


def authorise_linked_transaction(
    auth: Authorisation, expected_otp: str, otp: str, now: dt.datetime
) -> StepOutcome:
    """Redirect: check the OTP against the one bound to the transaction as it is now (dynamic
    linking: a changed amount or payee yields another `expected_otp`)."""
    _check_open(auth, ScaStatus.SCA_METHOD_SELECTED, approach=ScaApproach.REDIRECT)
    if not hmac.compare_digest(expected_otp, otp.strip()):
        return _fail(auth, now, "OTP")
    return StepOutcome(replace(auth, sca_status=ScaStatus.FINALISED, updated_at=now))


def cancel_by_psu(auth: Authorisation, now: dt.datetime) -> Authorisation:
    """The PSU pressed Cancel on the bank's page: the SCA failed."""
    if auth.sca_status.is_final:
        raise StatusInvalid("the SCA has already ended", location="path")
    return replace(auth, sca_status=ScaStatus.FAILED, updated_at=now)


def push_to_app(auth: Authorisation, psu_id: str, now: dt.datetime) -> Authorisation:
    """Decoupled: the approval request went to the PSU's bank app."""
    _check_open(auth, ScaStatus.RECEIVED, ScaStatus.PSU_IDENTIFIED, approach=ScaApproach.DECOUPLED)
    return replace(auth, psu_id=psu_id, sca_status=ScaStatus.STARTED, updated_at=now)


def _decide_in_app(
    auth: Authorisation, psu_id: str, status: ScaStatus, now: dt.datetime
) -> Authorisation:
    _check_open(auth, ScaStatus.STARTED, approach=ScaApproach.DECOUPLED)
    if auth.psu_id != psu_id:
        raise PsuCredentialsInvalid("this approval is for another PSU")
    return replace(auth, sca_status=status, updated_at=now)


def approve_in_app(auth: Authorisation, psu_id: str, now: dt.datetime) -> Authorisation:
    """Decoupled: the PSU approved in the bank app."""
    return _decide_in_app(auth, psu_id, ScaStatus.FINALISED, now)


def reject_in_app(auth: Authorisation, psu_id: str, now: dt.datetime) -> Authorisation:
    """Decoupled: the PSU rejected in the bank app."""
    return _decide_in_app(auth, psu_id, ScaStatus.FAILED, now)
