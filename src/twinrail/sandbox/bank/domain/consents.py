"""AIS consents: what the TPP asked for, what the PSU granted, and whether an access is allowed.

Rules (Berlin Group 1.3.11 implementation guidelines, §6.3):
- a consent is usable only in status `valid`, until `validUntil` (inclusive) and, for recurring
  consents, for 180 days after the PSU's last SCA (RTS art. 10 as amended by 2022/2360). After
  that the consent reads as `expired` and access is CONSENT_EXPIRED (401, "the consent has
  expired and needs to be renewed"): NextGenPSD2 1.3.11 has no re-authorisation of a valid
  consent, so the TPP renews by creating a new consent and taking the PSU through SCA again;
- `frequencyPerDay` limits accesses *without* the PSU present (no PSU-IP-Address) per account,
  per kind of data and per day; one-off consents (`recurringIndicator` false) have exactly 1;
- access to an account or kind of data the consent does not cover is CONSENT_INVALID.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from twinrail.sandbox.bank.domain.errors import (
    AccessExceeded,
    ConsentExpired,
    ConsentInvalid,
    FormatError,
    StatusInvalid,
)
from twinrail.sandbox.bank.domain.validation import (
    parse_date,
    require_bool,
    require_int,
    require_object,
)

__all__ = [
    "ConsentStatus",
    "AccessKind",
    "ConsentAccess",
    "ConsentRequest",
    "Consent",
    "MAX_CONSENT_DAYS",
    "SCA_RENEWAL",
    "parse_consent_request",
    "check_access",
    "check_frequency",
    "usage_key",
]

# The longest validUntil any bank allows; each bank's profile shortens it further (180 days by
# default). A consent may outlive one SCA: access then needs a new SCA every 180 days.
MAX_CONSENT_DAYS = 3650
SCA_RENEWAL = dt.timedelta(days=180)  # RTS art. 10: AIS needs SCA again after 180 days
_LIST_VALUES = {"allAccounts", "allAccountsWithOwnerName"}


class ConsentStatus(StrEnum):
    """The consentStatus values of the spec."""

    RECEIVED = "received"
    REJECTED = "rejected"
    VALID = "valid"
    REVOKED_BY_PSU = "revokedByPsu"
    EXPIRED = "expired"
    TERMINATED_BY_TPP = "terminatedByTpp"
    PARTIALLY_AUTHORISED = "partiallyAuthorised"

    @property
    def is_final(self) -> bool:
        """Whether no further transition is possible."""
        return self in _FINAL


_FINAL = {
    ConsentStatus.REJECTED,
    ConsentStatus.REVOKED_BY_PSU,
    ConsentStatus.EXPIRED,
    ConsentStatus.TERMINATED_BY_TPP,
}


class AccessKind(StrEnum):
    """The kinds of account data a consent can cover."""

    ACCOUNTS = "accounts"
    BALANCES = "balances"
    TRANSACTIONS = "transactions"


@dataclass(frozen=True)
class ConsentAccess:
    """The `access` object: IBANs per kind, or one of the global options."""

    accounts: tuple[str, ...] = ()
    balances: tuple[str, ...] = ()
    transactions: tuple[str, ...] = ()
    available_accounts: str | None = None
    available_accounts_with_balance: str | None = None
    all_psd2: str | None = None

    @property
    def is_dedicated(self) -> bool:
        """Whether the TPP named the accounts itself."""
        return bool(self.accounts or self.balances or self.transactions)

    @property
    def is_bank_offered(self) -> bool:
        """Empty arrays and no global option: the PSU chooses the accounts at the bank."""
        return not self.is_dedicated and not self.is_global

    @property
    def is_global(self) -> bool:
        """One of availableAccounts, availableAccountsWithBalance or allPsd2."""
        return bool(
            self.available_accounts or self.available_accounts_with_balance or self.all_psd2
        )

    def ibans(self, kind: AccessKind) -> frozenset[str]:
        """The IBANs granted for `kind`; balances and transactions imply account details."""
        if kind is AccessKind.ACCOUNTS:
            return frozenset(self.accounts + self.balances + self.transactions)
        return frozenset(self.balances if kind is AccessKind.BALANCES else self.transactions)

    def to_json(self) -> dict[str, Any]:
        """The `access` object as the spec shapes it."""
        out: dict[str, Any] = {}
        for key, ibans in (
            ("accounts", self.accounts),
            ("balances", self.balances),
            ("transactions", self.transactions),
        ):
            if ibans or self.is_bank_offered:
                out[key] = [{"iban": iban} for iban in ibans]
        for key, value in (
            ("availableAccounts", self.available_accounts),
            ("availableAccountsWithBalance", self.available_accounts_with_balance),
            ("allPsd2", self.all_psd2),
        ):
            if value:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, data: Any) -> ConsentAccess:
        """Read an `access` object; FormatError when it is malformed."""
        obj = require_object(data, "access")
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("accounts", "balances", "transactions"):
            lists[key] = _iban_list(obj.get(key, []), f"access.{key}")
        options: dict[str, str | None] = {}
        for key in ("availableAccounts", "availableAccountsWithBalance", "allPsd2"):
            value = obj.get(key)
            if value is not None and value not in _LIST_VALUES:
                raise FormatError(f"access.{key} must be allAccounts or allAccountsWithOwnerName")
            options[key] = value
        access = cls(
            accounts=lists["accounts"],
            balances=lists["balances"],
            transactions=lists["transactions"],
            available_accounts=options["availableAccounts"],
            available_accounts_with_balance=options["availableAccountsWithBalance"],
            all_psd2=options["allPsd2"],
        )
        if access.is_dedicated and access.is_global:
            raise FormatError("access names accounts and a global option at once")
        return access


def _iban_list(value: Any, path: str) -> tuple[str, ...]:
    from twinrail.sandbox.bank.domain.validation import normalise_iban

    if not isinstance(value, list):
        raise FormatError(f"{path} must be an array")
    ibans: list[str] = []
    for index, item in enumerate(value):
        ref = require_object(item, f"{path}[{index}]")
        if "iban" not in ref:
            # The sandbox bank addresses accounts by IBAN only (no BBAN, PAN or MSISDN).
            raise FormatError(f"{path}[{index}] needs an iban")
        ibans.append(normalise_iban(ref["iban"], f"{path}[{index}].iban"))
    return tuple(dict.fromkeys(ibans))


@dataclass(frozen=True)
class ConsentRequest:
    """A validated POST /v1/consents body."""

    access: ConsentAccess
    recurring: bool
    valid_until: dt.date
    frequency_per_day: int
    combined_service: bool


def parse_consent_request(body: Any, today: dt.date) -> ConsentRequest:
    """Validate a consent request body; FormatError for anything the spec does not allow."""
    obj = require_object(body, "body")
    for key in ("access", "recurringIndicator", "validUntil", "frequencyPerDay"):
        if key not in obj:
            raise FormatError(f"{key} is required")
    recurring = require_bool(obj["recurringIndicator"], "recurringIndicator")
    frequency = require_int(obj["frequencyPerDay"], "frequencyPerDay", minimum=1)
    if not recurring and frequency != 1:
        raise FormatError("a one-off consent (recurringIndicator false) has frequencyPerDay 1")
    valid_until = parse_date(obj["validUntil"], "validUntil")
    if valid_until < today:
        raise FormatError("validUntil lies in the past")
    valid_until = min(valid_until, today + dt.timedelta(days=MAX_CONSENT_DAYS))
    combined = require_bool(obj.get("combinedServiceIndicator", False), "combinedServiceIndicator")
    return ConsentRequest(
        ConsentAccess.from_json(obj["access"]), recurring, valid_until, frequency, combined
    )


@dataclass(frozen=True)
class Consent:
    """An AIS consent resource of one TPP."""

    consent_id: str
    tpp_id: str
    psu_id: str | None
    status: ConsentStatus
    requested: ConsentAccess
    granted: ConsentAccess | None  # what the PSU authorised; None until then
    recurring: bool
    valid_until: dt.date
    frequency_per_day: int
    combined_service: bool
    created_at: dt.datetime
    last_action_date: dt.date
    sca_at: dt.datetime | None

    def status_at(self, now: dt.datetime) -> ConsentStatus:
        """The status as of `now`: a valid consent past its end reads as expired."""
        if self.status is ConsentStatus.VALID and self._expired(now):
            return ConsentStatus.EXPIRED
        return self.status

    def _expired(self, now: dt.datetime) -> bool:
        if now.date() > self.valid_until:
            return True
        return self.recurring and self.sca_at is not None and now - self.sca_at > SCA_RENEWAL

    def authorise(self, granted: ConsentAccess, psu_id: str, now: dt.datetime) -> Consent:
        """The consent after the PSU's successful SCA."""
        if self.status is not ConsentStatus.RECEIVED:
            raise StatusInvalid("consent is not awaiting authorisation", status=self.status.value)
        return replace(
            self, status=ConsentStatus.VALID, granted=granted, psu_id=psu_id, sca_at=now,
            last_action_date=now.date(),
        )  # fmt: skip

    def reject(self, now: dt.datetime) -> Consent:
        """The consent after the PSU's SCA failed or the PSU refused it."""
        return replace(self, status=ConsentStatus.REJECTED, last_action_date=now.date())

    def terminate_by_tpp(self, now: dt.datetime) -> Consent:
        """The consent after the TPP deleted it; a final consent cannot be deleted again."""
        if self.status_at(now).is_final:
            raise StatusInvalid("consent is already final", status=self.status_at(now).value)
        return replace(self, status=ConsentStatus.TERMINATED_BY_TPP, last_action_date=now.date())

    def expire(self, now: dt.datetime) -> Consent:
        """The consent superseded by a newer recurring one (spec: createConsent side effects)."""
        return replace(self, status=ConsentStatus.EXPIRED, last_action_date=now.date())


def check_access(consent: Consent, kind: AccessKind, iban: str | None, now: dt.datetime) -> None:
    """Allow reading `kind` of `iban` (None: the account list), or raise the Berlin Group error."""
    status = consent.status_at(now)
    if status is ConsentStatus.EXPIRED:
        raise ConsentExpired("consent has expired", location="header", status=status.value)
    if status is not ConsentStatus.VALID or consent.granted is None:
        raise ConsentInvalid("consent is not valid", location="header", status=status.value)
    if iban is not None and iban not in consent.granted.ibans(kind):
        raise ConsentInvalid(f"consent does not cover {kind.value} of this account")


def usage_key(kind: AccessKind, account_id: str | None) -> str:
    """What frequencyPerDay counts separately: one kind of data of one account (or the list)."""
    return f"{kind.value}:{account_id or '*'}"


def check_frequency(consent: Consent, used_today: int) -> None:
    """Refuse an unattended access beyond frequencyPerDay (PSU-present accesses are not counted)."""
    if used_today >= consent.frequency_per_day:
        raise AccessExceeded(
            "frequencyPerDay reached for this access today", limit=consent.frequency_per_day
        )
