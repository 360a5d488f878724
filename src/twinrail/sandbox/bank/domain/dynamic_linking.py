"""Dynamic linking (PSD2 RTS art. 5): the one-time password of a redirect SCA is computed over
the authorisation and what it authorises (amount and payee), so that a code shown for one
transaction is worthless for any other, or for the same one once its amount or payee changed.

The code is HOTP's dynamic truncation (RFC 4226 §5.3) of an HMAC-SHA256 keyed with the PSU's
sandbox OTP secret; anyone holding the seed can derive it (that is the point of a sandbox).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from twinrail.sandbox.bank.domain.accounts import format_amount

__all__ = ["TransactionChallenge", "linked_otp", "OTP_DIGITS"]

OTP_DIGITS = 6


@dataclass(frozen=True)
class TransactionChallenge:
    """What the PSU is asked to authorise, as shown on the OTP page and in the SMS."""

    purpose: str  # "payment", "payment-cancellation" or "consent"
    amount: int | None  # minor units; None for a consent
    currency: str
    payee_iban: str
    payee_name: str
    detail: str = ""  # a consent's accounts, a payment's remittance

    @property
    def amount_text(self) -> str:
        """`EUR 25.00`, or empty for a consent."""
        return "" if self.amount is None else f"{self.currency} {format_amount(self.amount)}"

    def describe(self) -> str:
        """One line for the PSU: what, how much, to whom."""
        if self.purpose == "consent":
            return f"Access to account information: {self.detail}"
        verb = "Cancel the payment of" if self.purpose == "payment-cancellation" else "Pay"
        return f"{verb} {self.amount_text} to {self.payee_name} ({self.payee_iban})"


def linked_otp(secret: str, authorisation_id: str, challenge: TransactionChallenge) -> str:
    """The OTP for `challenge` under `authorisation_id`, from the PSU's `secret`."""
    fields = (
        authorisation_id, challenge.purpose, str(challenge.amount), challenge.currency,
        challenge.payee_iban, challenge.payee_name, challenge.detail,
    )  # fmt: skip
    message = "\x1f".join(fields).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    code = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{code % 10**OTP_DIGITS:0{OTP_DIGITS}d}"
