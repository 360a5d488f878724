"""Accounts, postings, transfers and balances: the ledger's values, free of I/O.

Every posting is a debit or a credit of a positive amount; balances are kept as four running
totals per account (debits and credits, posted and pending) so that no signed amount ever has to
be interpreted by account type. A balance is then read off in the account's normal side.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from twinrail.ledger.domain.errors import BalanceOverflow, LimitExceeded
from twinrail.ledger.domain.money import MAX_AMOUNT

__all__ = [
    "Side",
    "TransferStatus",
    "Limits",
    "Account",
    "Totals",
    "Balance",
    "Posting",
    "Transfer",
    "Entry",
]


class Side(StrEnum):
    """Which column of the account a posting lands in."""

    DEBIT = "debit"
    CREDIT = "credit"

    def opposite(self) -> Side:
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


class TransferStatus(StrEnum):
    """A transfer is posted at once, or pending (a hold) until posted, voided or expired."""

    POSTED = "posted"
    PENDING = "pending"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Limits:
    """Balance limits, enforced on available balance (pending debits count)."""

    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    overdraft_limit: int = 0  # how far the limited side may go past the other


@dataclass(frozen=True, slots=True)
class Account:
    """An account in the chart of accounts, holding one asset."""

    id: str
    asset: str
    code: str
    name: str
    normal_side: Side
    limits: Limits = field(default_factory=Limits)
    metadata: dict[str, Any] = field(default_factory=dict)
    closed: bool = False
    opened_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Totals:
    """The four running totals of an account."""

    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    def add(self, side: Side, amount: int, *, pending: bool) -> Totals:
        """These totals with `amount` added (or removed, if negative) on one side."""
        dp, cp, dq, cq = (
            self.debits_posted,
            self.credits_posted,
            self.debits_pending,
            self.credits_pending,
        )
        if side is Side.DEBIT:
            if pending:
                dq += amount
            else:
                dp += amount
        elif pending:
            cq += amount
        else:
            cp += amount
        if max(dp, cp, dq, cq) > MAX_AMOUNT:
            raise BalanceOverflow("an account total would exceed 10^78 - 1", side=side.value)
        return Totals(dp, cp, dq, cq)

    def is_zero(self) -> bool:
        return self.debits_posted == self.credits_posted and not (
            self.debits_pending or self.credits_pending
        )

    def check_within(self, limits: Limits, account_id: str) -> None:
        """Raise LimitExceeded if these totals breach `limits` on available balance."""
        if limits.debits_must_not_exceed_credits:
            exposure = self.debits_posted + self.debits_pending - self.credits_posted
            if exposure > limits.overdraft_limit:
                raise LimitExceeded(
                    "debits would exceed credits (insufficient available balance)",
                    account_id=account_id,
                    short_by=str(exposure - limits.overdraft_limit),
                )
        if limits.credits_must_not_exceed_debits:
            exposure = self.credits_posted + self.credits_pending - self.debits_posted
            if exposure > limits.overdraft_limit:
                raise LimitExceeded(
                    "credits would exceed debits",
                    account_id=account_id,
                    short_by=str(exposure - limits.overdraft_limit),
                )


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's balance read in its normal side: posted, pending and available."""

    account_id: str
    asset: str
    normal_side: Side
    totals: Totals

    @property
    def posted(self) -> int:
        t = self.totals
        if self.normal_side is Side.CREDIT:
            return t.credits_posted - t.debits_posted
        return t.debits_posted - t.credits_posted

    @property
    def pending(self) -> int:
        """Net effect of pending holds, in the normal side."""
        t = self.totals
        if self.normal_side is Side.CREDIT:
            return t.credits_pending - t.debits_pending
        return t.debits_pending - t.credits_pending

    @property
    def available(self) -> int:
        """Posted balance less what holds reserve against it; pending inflows do not count."""
        t = self.totals
        if self.normal_side is Side.CREDIT:
            return t.credits_posted - t.debits_posted - t.debits_pending
        return t.debits_posted - t.credits_posted - t.credits_pending


@dataclass(frozen=True, slots=True)
class Posting:
    """One line of a transfer: an amount debited or credited to an account."""

    account_id: str
    side: Side
    amount: int
    asset: str

    def as_dict(self) -> dict[str, str]:
        return {
            "account_id": self.account_id,
            "side": self.side.value,
            "amount": str(self.amount),
            "asset": self.asset,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Posting:
        return cls(data["account_id"], Side(data["side"]), int(data["amount"]), data["asset"])


@dataclass(frozen=True, slots=True)
class Transfer:
    """A balanced set of postings, posted at once or held pending."""

    id: str
    postings: tuple[Posting, ...]
    status: TransferStatus
    effective_at: dt.datetime
    recorded_at: dt.datetime
    body_hash: str
    reference: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    expires_at: dt.datetime | None = None
    reverses: str | None = None
    settled_postings: tuple[Posting, ...] = ()  # what a hold was finally posted for
    version: int = 1  # its event stream's version

    def effective_postings(self) -> tuple[Posting, ...]:
        """The postings that reached posted balances (none for a live or voided hold)."""
        if self.settled_postings:
            return self.settled_postings
        return self.postings if self.status is TransferStatus.POSTED else ()


@dataclass(frozen=True, slots=True)
class Entry:
    """A posted line as it appears in an account's history (the statement)."""

    transfer_id: str
    account_id: str
    side: Side
    amount: int
    asset: str
    effective_at: dt.datetime
    reference: str = ""
