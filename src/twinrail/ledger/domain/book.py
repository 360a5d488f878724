"""The ledger's rules: decide whether a command may happen and which events it produces.

A `Book` works on the slice of ledger state one unit of work has loaded (and locked): the
accounts a command touches and the transfers it names. Each decision validates everything first,
then applies its events to the state, so a rejected command leaves the state untouched; this is
what lets a bulk batch skip a bad item without disturbing its neighbours.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from twinrail.ledger.domain.commands import (
    CloseAccount,
    DefineAsset,
    OpenAccount,
    PostPendingTransfer,
    PostTransfer,
    ReverseTransfer,
    VoidPendingTransfer,
)
from twinrail.ledger.domain.errors import (
    AccountAlreadyExists,
    AccountClosed,
    AccountHasBalance,
    AlreadyReversed,
    AssetAlreadyDefined,
    AssetMismatch,
    DuplicateAccountInTransfer,
    EmptyTransfer,
    HoldAmountExceeded,
    HoldNotPending,
    IdempotencyConflict,
    InvalidAmount,
    InvalidTransfer,
    NotReversible,
    PartialPostUnsupported,
    UnbalancedTransfer,
    UnknownAccount,
    UnknownAsset,
    UnknownTransfer,
)
from twinrail.ledger.domain.events import (
    AccountClosed as AccountClosedEvent,
)
from twinrail.ledger.domain.events import (
    AccountOpened,
    AssetDefined,
    HoldExpired,
    HoldPlaced,
    HoldPosted,
    HoldVoided,
    LedgerEvent,
    TransferPosted,
)
from twinrail.ledger.domain.model import Account, Posting, Totals, Transfer, TransferStatus
from twinrail.ledger.domain.money import Asset, check_amount
from twinrail.ledger.domain.state import LedgerState
from twinrail.ledger.domain.validation import (
    MAX_REFERENCE_LENGTH,
    check_account_fields,
    check_id,
    check_transfer_fields,
)

__all__ = ["Book", "Outcome"]


class Outcome:
    """What a transfer command returned: the transfer, and whether it was an idempotent replay."""

    __slots__ = ("transfer", "replayed")

    def __init__(self, transfer: Transfer, replayed: bool) -> None:
        self.transfer = transfer
        self.replayed = replayed


class Book:
    """Decides commands against a loaded slice of the ledger and records the resulting events."""

    def __init__(self, state: LedgerState, now: dt.datetime) -> None:
        self.state = state
        self.now = now
        self.events: list[LedgerEvent] = []

    def _record(self, *events: LedgerEvent) -> None:
        for event in events:
            self.state.apply(event)
            self.events.append(event)

    # assets and accounts

    def define_asset(self, cmd: DefineAsset) -> Asset:
        asset = Asset(cmd.code, cmd.scale)
        existing = self.state.assets.get(cmd.code)
        if existing is not None:
            if existing != asset:
                raise AssetAlreadyDefined(
                    f"asset {cmd.code} exists with scale {existing.scale}", asset=cmd.code
                )
            return existing
        self._record(AssetDefined(asset.code, asset.scale))
        return asset

    def open_account(self, cmd: OpenAccount) -> Account:
        check_account_fields(cmd)
        if cmd.asset not in self.state.assets:
            raise UnknownAsset(f"asset {cmd.asset} is not defined", asset=cmd.asset)
        if cmd.limits.overdraft_limit < 0:
            raise InvalidAmount("overdraft limit must not be negative", account_id=cmd.id)
        account = Account(
            id=cmd.id,
            asset=cmd.asset,
            code=cmd.code,
            name=cmd.name,
            normal_side=cmd.normal_side,
            limits=cmd.limits,
            metadata=dict(cmd.metadata),
            opened_at=self.now,
        )
        existing = self.state.accounts.get(cmd.id)
        if existing is not None:
            if _same_account(existing, account):
                return existing
            raise AccountAlreadyExists(f"account {cmd.id} exists", account_id=cmd.id)
        self._record(AccountOpened(account))
        return account

    def close_account(self, cmd: CloseAccount) -> Account:
        account = self._account(cmd.id)
        if account.closed:
            return account
        if not self.state.totals[cmd.id].is_zero():
            raise AccountHasBalance("account has a balance or pending holds", account_id=cmd.id)
        self._record(AccountClosedEvent(cmd.id, self.now))
        return self.state.accounts[cmd.id]

    # transfers

    def post_transfer(self, cmd: PostTransfer) -> Outcome:
        """Post `cmd` (or hold it pending), or return the earlier result of the same id."""
        check_transfer_fields(cmd)  # before hashing: an absurd amount must not reach str()
        body_hash = cmd.body_hash()
        replay = self._replay(cmd.id, body_hash)
        if replay:
            return replay
        self._check_postings(cmd.postings)
        transfer = Transfer(
            id=cmd.id,
            postings=cmd.postings,
            status=TransferStatus.PENDING if cmd.pending else TransferStatus.POSTED,
            effective_at=cmd.effective_at or self.now,
            recorded_at=self.now,
            body_hash=body_hash,
            reference=cmd.reference,
            metadata=dict(cmd.metadata),
            expires_at=(
                self.now + dt.timedelta(seconds=cmd.timeout_seconds)
                if cmd.timeout_seconds
                else None
            ),
        )
        self._check_limits(cmd.postings, pending=cmd.pending)
        self._record(HoldPlaced(transfer) if cmd.pending else TransferPosted(transfer))
        return Outcome(self.state.transfers[cmd.id], replayed=False)

    def post_pending(self, cmd: PostPendingTransfer) -> Transfer:
        hold = self._live_hold(cmd.hold_id)
        postings = hold.postings
        if cmd.amount is not None:
            check_amount(cmd.amount)
            if len(postings) != 2:
                raise PartialPostUnsupported(
                    "only a hold of one debit and one credit can be posted partially",
                    hold_id=hold.id,
                )
            held = postings[0].amount
            if cmd.amount > held:
                raise HoldAmountExceeded(
                    "cannot post more than the hold reserved",
                    hold_id=hold.id,
                    held=str(held),
                    requested=str(cmd.amount),
                )
            postings = tuple(Posting(p.account_id, p.side, cmd.amount, p.asset) for p in postings)
        self._check_accounts_open(postings)
        self._check_limits_after(self._release_then_post(hold.postings, postings))
        self._record(HoldPosted(hold.id, postings, self.now))
        return self.state.transfers[hold.id]

    def void_pending(self, cmd: VoidPendingTransfer) -> Transfer:
        hold = self._live_hold(cmd.hold_id)
        self._record(HoldVoided(hold.id, self.now))
        return self.state.transfers[hold.id]

    def expire_pending(self, hold_id: str) -> Transfer:
        """Release a hold whose timeout has passed."""
        hold = self._transfer(hold_id)
        if hold.status is not TransferStatus.PENDING:
            raise HoldNotPending(f"hold is {hold.status}", hold_id=hold_id, status=hold.status)
        if hold.expires_at is None or hold.expires_at > self.now:
            raise HoldNotPending("hold has not reached its timeout", hold_id=hold_id)
        self._record(HoldExpired(hold.id, self.now))
        return self.state.transfers[hold.id]

    def reverse_transfer(self, cmd: ReverseTransfer) -> Outcome:
        check_id(cmd.id)
        if len(cmd.reference) > MAX_REFERENCE_LENGTH:
            raise InvalidTransfer("reference is too long", transfer_id=cmd.id)
        body_hash = cmd.body_hash()
        replay = self._replay(cmd.id, body_hash)
        if replay:
            return replay
        original = self._transfer(cmd.original_id)
        if original.status is not TransferStatus.POSTED:
            raise NotReversible(
                f"a {original.status} transfer cannot be reversed", transfer_id=original.id
            )
        if original.id in self.state.reversed_ids:
            raise AlreadyReversed("transfer was already reversed", transfer_id=original.id)
        postings = tuple(
            Posting(p.account_id, p.side.opposite(), p.amount, p.asset)
            for p in original.effective_postings()
        )
        self._check_accounts_open(postings)
        self._check_limits(postings, pending=False)
        reversal = Transfer(
            id=cmd.id,
            postings=postings,
            status=TransferStatus.POSTED,
            effective_at=self.now,
            recorded_at=self.now,
            body_hash=body_hash,
            reference=cmd.reference or f"reversal of {original.id}",
            metadata=dict(cmd.metadata),
            reverses=original.id,
        )
        self._record(TransferPosted(reversal))
        return Outcome(self.state.transfers[cmd.id], replayed=False)

    # guards

    def _replay(self, transfer_id: str, body_hash: str) -> Outcome | None:
        existing = self.state.transfers.get(transfer_id)
        if existing is None:
            return None
        if existing.body_hash != body_hash:
            raise IdempotencyConflict(
                "transfer id was used before with a different body", transfer_id=transfer_id
            )
        return Outcome(existing, replayed=True)

    def _account(self, account_id: str) -> Account:
        account = self.state.accounts.get(account_id)
        if account is None:
            raise UnknownAccount(f"account {account_id} does not exist", account_id=account_id)
        return account

    def _transfer(self, transfer_id: str) -> Transfer:
        transfer = self.state.transfers.get(transfer_id)
        if transfer is None:
            raise UnknownTransfer(f"transfer {transfer_id} does not exist", transfer_id=transfer_id)
        return transfer

    def _live_hold(self, hold_id: str) -> Transfer:
        hold = self._transfer(hold_id)
        if hold.status is not TransferStatus.PENDING:
            state = "posted" if hold.settled_postings else hold.status.value
            raise HoldNotPending(f"hold is already {state}", hold_id=hold_id, status=state)
        if hold.expires_at is not None and hold.expires_at <= self.now:
            raise HoldNotPending("hold has expired", hold_id=hold_id, status="expired")
        return hold

    def _check_postings(self, postings: tuple[Posting, ...]) -> None:
        if len(postings) < 2:
            raise EmptyTransfer("a transfer needs at least two postings")
        net: dict[str, int] = defaultdict(int)
        seen: set[str] = set()
        for p in postings:
            check_amount(p.amount)
            if p.account_id in seen:
                raise DuplicateAccountInTransfer(
                    "an account may appear only once in a transfer", account_id=p.account_id
                )
            seen.add(p.account_id)
            net[p.asset] += p.amount if p.side.value == "debit" else -p.amount
        unbalanced = {asset: str(n) for asset, n in net.items() if n}
        if unbalanced:
            raise UnbalancedTransfer("debits and credits differ", net_debit_by_asset=unbalanced)
        self._check_accounts_open(postings)

    def _check_accounts_open(self, postings: tuple[Posting, ...]) -> None:
        for p in postings:
            account = self._account(p.account_id)
            if account.closed:
                raise AccountClosed(f"account {account.id} is closed", account_id=account.id)
            if account.asset != p.asset:
                raise AssetMismatch(
                    f"account {account.id} holds {account.asset}, not {p.asset}",
                    account_id=account.id,
                    account_asset=account.asset,
                    posting_asset=p.asset,
                )

    def _check_limits(self, postings: tuple[Posting, ...], *, pending: bool) -> None:
        after = {
            p.account_id: self.state.totals[p.account_id].add(p.side, p.amount, pending=pending)
            for p in postings
        }
        self._check_limits_after(after)

    def _release_then_post(
        self, held: tuple[Posting, ...], settled: tuple[Posting, ...]
    ) -> dict[str, Totals]:
        after = {p.account_id: self.state.totals[p.account_id] for p in held}
        for p in held:
            after[p.account_id] = after[p.account_id].add(p.side, -p.amount, pending=True)
        for p in settled:
            after[p.account_id] = after[p.account_id].add(p.side, p.amount, pending=False)
        return after

    def _check_limits_after(self, after: dict[str, Totals]) -> None:
        for account_id, totals in after.items():
            totals.check_within(self.state.accounts[account_id].limits, account_id)


def _same_account(a: Account, b: Account) -> bool:
    return (a.asset, a.code, a.name, a.normal_side, a.limits, a.metadata) == (
        b.asset,
        b.code,
        b.name,
        b.normal_side,
        b.limits,
        b.metadata,
    )
