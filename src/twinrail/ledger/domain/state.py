"""The ledger as a fold of its events.

`LedgerState.apply` is the only code that changes balances: the book applies the events it has
just decided on, and `rebuild` applies every stored event to an empty state. The two cannot
drift apart, so "every balance equals the fold of its events" holds by construction and the
rebuild check guards the stored projections against everything else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from twinrail.ledger.domain.events import (
    AccountClosed,
    AccountOpened,
    AssetDefined,
    HoldExpired,
    HoldPlaced,
    HoldPosted,
    HoldVoided,
    LedgerEvent,
    TransferPosted,
)
from twinrail.ledger.domain.model import Account, Entry, Posting, Totals, Transfer, TransferStatus
from twinrail.ledger.domain.money import Asset

__all__ = ["LedgerState"]


@dataclass
class LedgerState:
    """Assets, accounts with their totals, transfers and the entries produced since creation."""

    assets: dict[str, Asset] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    totals: dict[str, Totals] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    reversed_ids: set[str] = field(default_factory=set)
    new_entries: list[Entry] = field(default_factory=list)

    def apply(self, event: LedgerEvent) -> None:
        """Change the state by one event; events are facts, so nothing is validated here."""
        match event:
            case AssetDefined(code=code, scale=scale):
                self.assets[code] = Asset(code, scale)
            case AccountOpened(account=account):
                self.accounts[account.id] = account
                self.totals[account.id] = Totals()
            case AccountClosed(account_id=account_id):
                self.accounts[account_id] = replace(self.accounts[account_id], closed=True)
            case TransferPosted(transfer=t):
                self.transfers[t.id] = t
                self._post(t.postings, t, t.effective_at)
                if t.reverses:
                    self.reversed_ids.add(t.reverses)
            case HoldPlaced(transfer=t):
                self.transfers[t.id] = t
                self._reserve(t.postings, sign=1)
            case HoldPosted(transfer_id=tid, postings=postings, posted_at=at):
                hold = self.transfers[tid]
                self._reserve(hold.postings, sign=-1)
                settled = replace(
                    hold, status=TransferStatus.POSTED, settled_postings=postings, version=2
                )
                self.transfers[tid] = settled
                self._post(postings, settled, at)
            case HoldVoided(transfer_id=tid) | HoldExpired(transfer_id=tid):
                hold = self.transfers[tid]
                self._reserve(hold.postings, sign=-1)
                status = (
                    TransferStatus.EXPIRED
                    if isinstance(event, HoldExpired)
                    else TransferStatus.VOIDED
                )
                self.transfers[tid] = replace(hold, status=status, version=2)

    def _reserve(self, postings: tuple[Posting, ...], *, sign: int) -> None:
        for p in postings:
            self.totals[p.account_id] = self.totals[p.account_id].add(
                p.side, sign * p.amount, pending=True
            )

    def _post(self, postings: tuple[Posting, ...], t: Transfer, effective_at: dt.datetime) -> None:
        for p in postings:
            self.totals[p.account_id] = self.totals[p.account_id].add(
                p.side, p.amount, pending=False
            )
            self.new_entries.append(
                Entry(
                    transfer_id=t.id,
                    account_id=p.account_id,
                    side=p.side,
                    amount=p.amount,
                    asset=p.asset,
                    effective_at=effective_at,
                    reference=t.reference,
                )
            )
