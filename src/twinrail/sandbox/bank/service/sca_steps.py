"""One step of an embedded SCA, shared by consent, payment and cancellation authorisations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from twinrail.sandbox.bank.domain.authorisation import (
    Authorisation,
    StepOutcome,
    authenticate_psu,
    authorise_transaction,
)
from twinrail.sandbox.bank.domain.errors import FormatError
from twinrail.sandbox.bank.domain.validation import require_object
from twinrail.sandbox.bank.store.bank_store import BankStore

__all__ = ["embedded_sca_step"]


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
