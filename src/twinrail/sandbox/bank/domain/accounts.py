"""The bank's own books: PSUs, their accounts and transactions, and balances derived from them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BookingStatus",
    "Psu",
    "Account",
    "Transaction",
    "Balance",
    "balances_of",
    "format_amount",
]


class BookingStatus(StrEnum):
    """Whether a transaction has been booked or is still pending."""

    BOOKED = "booked"
    PENDING = "pending"


@dataclass(frozen=True)
class Psu:
    """A bank customer who can log in (sandbox credentials are part of the seed)."""

    psu_id: str
    name: str
    password: str
    otp: str  # the fixed sandbox one-time password of the minimal SCA step


@dataclass(frozen=True)
class Account:
    """A payment account; amounts are integer minor units of `currency`."""

    resource_id: str
    psu_id: str
    iban: str
    currency: str
    name: str
    product: str
    cash_account_type: str
    bic: str
    owner_name: str
    opening_booked: int
    opening_date: dt.date


@dataclass(frozen=True)
class Transaction:
    """One entry on an account: positive credits, negative debits, in minor units."""

    transaction_id: str
    account_id: str
    status: BookingStatus
    booking_date: dt.date | None
    value_date: dt.date
    amount: int
    counterparty_name: str
    counterparty_iban: str
    remittance: str
    entry_reference: str


@dataclass(frozen=True)
class Balance:
    """A balance as Berlin Group types it (closingBooked, expected, interimAvailable, ...)."""

    balance_type: str
    amount: int
    reference_date: dt.date


def balances_of(account: Account, transactions: list[Transaction], today: dt.date) -> list[Balance]:
    """closingBooked (booked up to today), expected (plus pending) and interimAvailable."""
    booked = sum(
        t.amount
        for t in transactions
        if t.status is BookingStatus.BOOKED and t.booking_date and t.booking_date <= today
    )
    pending = sum(t.amount for t in transactions if t.status is BookingStatus.PENDING)
    closing = account.opening_booked + booked
    # Pending debits already reduce what the PSU can spend; pending credits do not add to it.
    pending_debits = sum(
        t.amount for t in transactions if t.status is BookingStatus.PENDING and t.amount < 0
    )
    available = closing + pending_debits
    return [
        Balance("closingBooked", closing, today),
        Balance("expected", closing + pending, today),
        Balance("interimAvailable", available, today),
    ]


def format_amount(minor_units: int, decimals: int = 2) -> str:
    """Berlin Group's amount string: `-12.30` for -1230 cents (never a float)."""
    sign = "-" if minor_units < 0 else ""
    whole, fraction = divmod(abs(minor_units), 10**decimals)
    return f"{sign}{whole}.{fraction:0{decimals}d}" if decimals else f"{sign}{whole}"
