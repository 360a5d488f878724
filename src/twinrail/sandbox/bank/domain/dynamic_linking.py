"""Dynamic linking (PSD2 RTS art. 5): the one-time password of a redirect SCA is computed over
the authorisation and what it authorises (amount and payee, and for a standing order its
schedule), so that a code shown for one transaction is worthless for any other, or for the same
one once its amount, payee or schedule changed.

The code is HOTP's dynamic truncation (RFC 4226 §5.3) of an HMAC-SHA256 keyed with the PSU's
sandbox OTP secret; anyone holding the seed can derive it (that is the point of a sandbox).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from twinrail.sandbox.bank.domain.accounts import format_amount

__all__ = ["TransactionChallenge", "StandingOrderTerms", "linked_otp", "OTP_DIGITS"]

OTP_DIGITS = 6
_VERBS = {
    "payment-cancellation": "Cancel the payment of",
    "periodic-payment": "Pay by standing order",
    "periodic-payment-cancellation": "Stop the standing order of",
}


@dataclass(frozen=True)
class StandingOrderTerms:
    """The schedule of a standing order as the PSU authorises it (ISO dates, spec codes)."""

    frequency: str
    start_date: str
    end_date: str = ""
    day_of_execution: str = ""
    execution_rule: str = ""

    def describe(self) -> str:
        """`Monthly from 2026-12-01 until 2027-05-31`."""
        until = f" until {self.end_date}" if self.end_date else ""
        return f"{self.frequency} from {self.start_date}{until}"

    def fields(self) -> tuple[str, ...]:
        """Every term, in a fixed order (what the one-time password binds)."""
        return (
            self.frequency, self.start_date, self.end_date, self.day_of_execution,
            self.execution_rule,
        )  # fmt: skip


@dataclass(frozen=True)
class TransactionChallenge:
    """What the PSU is asked to authorise, as shown on the OTP page and in the SMS."""

    purpose: str  # "payment", "payment-cancellation", "periodic-payment[-cancellation]", "consent"
    amount: int | None  # minor units; None for a consent
    currency: str
    payee_iban: str
    payee_name: str
    detail: str = ""  # a consent's accounts, a payment's remittance
    schedule: StandingOrderTerms | None = None  # a standing order's, bound into the code too

    @property
    def amount_text(self) -> str:
        """`EUR 25.00`, or empty for a consent."""
        return "" if self.amount is None else f"{self.currency} {format_amount(self.amount)}"

    def describe(self) -> str:
        """One line for the PSU: what, how much, to whom."""
        if self.purpose == "consent":
            return f"Access to account information: {self.detail}"
        verb = _VERBS.get(self.purpose, "Pay")
        line = f"{verb} {self.amount_text} to {self.payee_name} ({self.payee_iban})"
        return f"{line}, {self.schedule.describe()}" if self.schedule else line


def linked_otp(secret: str, authorisation_id: str, challenge: TransactionChallenge) -> str:
    """The OTP for `challenge` under `authorisation_id`, from the PSU's `secret`."""
    fields: tuple[str, ...] = (
        authorisation_id, challenge.purpose, str(challenge.amount), challenge.currency,
        challenge.payee_iban, challenge.payee_name, challenge.detail,
    )  # fmt: skip
    if challenge.schedule is not None:  # absent for single payments: their codes stay as they were
        fields += challenge.schedule.fields()
    message = "\x1f".join(fields).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    code = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{code % 10**OTP_DIGITS:0{OTP_DIGITS}d}"
