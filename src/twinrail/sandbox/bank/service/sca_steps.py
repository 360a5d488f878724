"""SCA steps shared by consent, payment and cancellation authorisations: opening one with the
approach the bank chose, and one embedded step (PUT on the authorisation)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from twinrail.sandbox.bank.domain.authorisation import (
    Authorisation,
    ScaApproach,
    ScaPolicy,
    ScaStatus,
    StepOutcome,
    authenticate_psu,
    authorise_transaction,
    choose_approach,
    identify_psu,
    push_to_app,
)
from twinrail.sandbox.bank.domain.errors import FormatError
from twinrail.sandbox.bank.domain.validation import require_object
from twinrail.sandbox.bank.store.bank_store import BankStore

__all__ = ["ScaRequest", "embedded_sca_step", "open_authorisation", "approach_for"]


@dataclass(frozen=True)
class ScaRequest:
    """The TPP's SCA headers: its approach preferences and where the PSU returns to."""

    redirect_preferred: bool | None = None
    decoupled_preferred: bool | None = None
    redirect_uri: str | None = None
    nok_redirect_uri: str | None = None


def approach_for(policy: ScaPolicy, sca: ScaRequest | None) -> ScaApproach:
    """The approach the bank uses for `sca`; a redirect needs the TPP's TPP-Redirect-URI."""
    sca = sca or ScaRequest()
    approach = choose_approach(
        policy,
        redirect_preferred=sca.redirect_preferred,
        decoupled_preferred=sca.decoupled_preferred,
    )
    if approach is ScaApproach.REDIRECT and not sca.redirect_uri:
        raise FormatError(
            "TPP-Redirect-URI is required for the redirect approach", location="header"
        )
    return approach


def open_authorisation(
    policy: ScaPolicy,
    sca: ScaRequest | None,
    *,
    kind: str,
    resource_id: str,
    tpp_id: str,
    psu_id: str | None,
    app_psu_id: str | None,
    now: dt.datetime,
) -> Authorisation:
    """A new authorisation of `kind` on `resource_id`. Decoupled: pushed at once to the bank app
    of `app_psu_id` (the PSU the bank knows for the resource)."""
    approach = approach_for(policy, sca)
    sca = sca or ScaRequest()
    auth = Authorisation(
        authorisation_id=f"auth-{uuid.uuid4().hex}", resource_type=kind, resource_id=resource_id,
        tpp_id=tpp_id, sca_status=ScaStatus.RECEIVED, sca_approach=approach, psu_id=psu_id,
        failed_attempts=0, created_at=now, updated_at=now,
        redirect_uri=sca.redirect_uri if approach is ScaApproach.REDIRECT else None,
        nok_redirect_uri=sca.nok_redirect_uri if approach is ScaApproach.REDIRECT else None,
    )  # fmt: skip
    if approach is ScaApproach.REDIRECT and psu_id:
        auth = identify_psu(auth, psu_id, now)  # the login page offers it pre-filled
    if approach is ScaApproach.DECOUPLED:
        who = psu_id or app_psu_id
        if not who:
            raise FormatError("PSU-ID is required for the decoupled approach", location="header")
        auth = push_to_app(auth, who, now)
    return auth


def embedded_sca_step(
    store: BankStore,
    auth: Authorisation,
    data: dict[str, Any],
    psu_id: str | None,
    now: dt.datetime,
) -> StepOutcome:
    """Apply a PUT body: `psuData.password` authenticates, `scaAuthenticationData` is the OTP."""
    if "psuData" in data:
        password = require_object(data["psuData"], "psuData").get("password")
        if not isinstance(password, str):
            raise FormatError("psuData.password is required")
        who = psu_id or auth.psu_id
        return authenticate_psu(auth, store.psu(who or ""), who, password, now)
    if "scaAuthenticationData" in data:
        otp = data["scaAuthenticationData"]
        if not isinstance(otp, str):
            raise FormatError("scaAuthenticationData must be a string")
        return authorise_transaction(auth, store.psu(auth.psu_id or ""), otp, now)
    raise FormatError("body needs psuData or scaAuthenticationData")
