"""SCA exemptions for payments (PSD2 RTS arts. 13-16), decided by the bank, never by the TPP.

A payment is exempted, in this order of precedence, when it
- goes between two accounts of the same PSU (art. 15),
- goes to a beneficiary the PSU listed as trusted (art. 13),
- repeats an earlier payment that had SCA: same debtor, payee, amount and currency (art. 14),
- is low-value (art. 16): at most EUR 30, while the PSU's exempted low-value payments since the
  last SCA, this one included, stay within EUR 100 in total and five in number.

The low-value counter belongs to the PSU; any completed payment SCA resets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ExemptionReason",
    "LowValueCounter",
    "PaymentFacts",
    "decide_exemption",
    "LOW_VALUE_LIMIT",
    "CUMULATIVE_LIMIT",
    "CONSECUTIVE_LIMIT",
]

LOW_VALUE_LIMIT = 30_00  # EUR minor units, inclusive ("does not exceed EUR 30")
CUMULATIVE_LIMIT = 100_00  # since the last SCA, this payment included
CONSECUTIVE_LIMIT = 5  # exempted low-value payments since the last SCA, this one included
EXEMPTION_CURRENCY = "EUR"


class ExemptionReason(StrEnum):
    """Why the bank waived SCA for a payment."""

    OWN_ACCOUNTS = "own-accounts"
    TRUSTED_BENEFICIARY = "trusted-beneficiary"
    RECURRING = "recurring"
    LOW_VALUE = "low-value"


@dataclass(frozen=True)
class LowValueCounter:
    """The PSU's low-value payments exempted since the last SCA: how many, how much."""

    count: int = 0
    total: int = 0

    def allows(self, amount: int) -> bool:
        """Whether a payment of `amount` EUR cents can be exempted as low-value now."""
        return (
            0 < amount <= LOW_VALUE_LIMIT
            and self.count + 1 <= CONSECUTIVE_LIMIT
            and self.total + amount <= CUMULATIVE_LIMIT
        )

    def after_exemption(self, amount: int) -> LowValueCounter:
        """The counter once a payment of `amount` was exempted."""
        return LowValueCounter(self.count + 1, self.total + amount)


@dataclass(frozen=True)
class PaymentFacts:
    """What the bank knows about a new payment when it decides on an exemption."""

    amount: int
    currency: str
    creditor_iban: str
    own_ibans: frozenset[str]  # the debtor PSU's accounts at this bank
    trusted_ibans: frozenset[str]  # the PSU's trusted beneficiaries
    repeats_authorised_payment: bool  # an earlier payment like it had SCA


def decide_exemption(
    facts: PaymentFacts, counter: LowValueCounter
) -> tuple[ExemptionReason | None, LowValueCounter]:
    """The exemption that applies (None: SCA is needed) and the PSU's counter afterwards."""
    if facts.creditor_iban in facts.own_ibans:
        return ExemptionReason.OWN_ACCOUNTS, counter
    if facts.creditor_iban in facts.trusted_ibans:
        return ExemptionReason.TRUSTED_BENEFICIARY, counter
    if facts.repeats_authorised_payment:
        return ExemptionReason.RECURRING, counter
    if facts.currency == EXEMPTION_CURRENCY and counter.allows(facts.amount):
        return ExemptionReason.LOW_VALUE, counter.after_exemption(facts.amount)
    return None, counter
