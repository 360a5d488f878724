"""A state machine over the ledger service: its invariants hold after every step, on both databases.

The machine keeps its own model of every account's four totals and every transfer's status. Before
each operation it predicts which rejections are possible (none, or a set of error classes); after
it, it checks the outcome against the prediction. After every step it checks the database against
the model and against the ledger's own rules: debits equal credits per asset, every stored total
equals the fold of the stored events, no limit is breached. A rejected operation must leave the
ledger tables exactly as they were and add one 'rejected' row to the audit trail; an idempotent
replay must change nothing at all.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, func, select, text

from tests.conftest import ManualClock
from twinrail.audit.store.tables import audit_entries
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
    AssetMismatch,
    BalanceOverflow,
    BatchRejected,
    HoldAmountExceeded,
    HoldNotPending,
    IdempotencyConflict,
    InvalidAmount,
    LedgerRejection,
    LimitExceeded,
    NotReversible,
    UnknownAccount,
)
from twinrail.ledger.domain.events import event_from_record
from twinrail.ledger.domain.model import Account, Limits, Posting, Side, Totals, Transfer
from twinrail.ledger.domain.money import MAX_AMOUNT
from twinrail.ledger.domain.state import LedgerState
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.ledger.store.ledger_store import LedgerStore
from twinrail.platform.db import READ_ONLY, create_db_engine
from twinrail.platform.migrate import upgrade

__all__ = [
    "LEDGER_TABLES",
    "snapshot_ledger",
    "last_rejection",
    "check_ledger_invariants",
    "StoredLedger",
]

# Every table a ledger write may touch, with the key that orders its rows.
LEDGER_TABLES = {
    "ledger_assets": "code",
    "ledger_accounts": "id",
    "ledger_transfers": "id",
    "ledger_entries": "id",
    "ledger_events": "position",
    "outbox": "id",
}


def snapshot_ledger(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the ledger tables as the driver returns it (raw text/NUMERIC, not decoded)."""
    with engine.connect().execution_options(**READ_ONLY) as conn:
        return {
            table: [
                tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))
            ]
            for table, key in LEDGER_TABLES.items()
        }


def last_rejection(engine: Engine) -> tuple[int, dict[str, Any] | None]:
    """How many rejected attempts the audit trail holds, and the details of the latest."""
    with engine.connect().execution_options(**READ_ONLY) as conn:
        rejected = audit_entries.c.outcome == "rejected"
        count = conn.scalar(select(func.count()).select_from(audit_entries).where(rejected))
        details = conn.scalar(
            select(audit_entries.c.details)
            .where(rejected)
            .order_by(audit_entries.c.id.desc())
            .limit(1)
        )
    return int(count or 0), details


@dataclass(frozen=True)
class StoredLedger:
    """What the database holds after the invariant checks passed."""

    accounts: dict[str, tuple[Account, Totals]]
    transfers: dict[str, Transfer]


def check_ledger_invariants(engine: Engine) -> StoredLedger:
    """Assert the ledger's own rules on the stored data; return what was read."""
    with engine.connect().execution_options(**READ_ONLY) as conn:
        store = LedgerStore(conn)
        folded = LedgerState()
        for _, topic, data in store.iter_events():
            folded.apply(event_from_record(topic, data))
        accounts = {a.id: (a, t) for a, t in store.list_accounts()}
        transfers = {t.id: t for t in store.all_transfers()}
        entries = list(store.all_entries())

    # every balance equals the fold of its events
    assert {i: t for i, (_, t) in accounts.items()} == folded.totals
    assert {i: a.closed for i, (a, _) in accounts.items()} == {
        i: a.closed for i, a in folded.accounts.items()
    }
    assert {i: (t.status, t.settled_postings) for i, t in transfers.items()} == {
        i: (t.status, t.settled_postings) for i, t in folded.transfers.items()
    }
    assert Counter(entries) == Counter(folded.new_entries)

    # debits equal credits per asset, posted and pending; totals equal their entries
    per_asset: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for account, t in accounts.values():
        sums = per_asset[account.asset]
        sums[0] += t.debits_posted - t.credits_posted
        sums[1] += t.debits_pending - t.credits_pending
    for e in entries:
        per_asset[e.asset][2 if e.side is Side.DEBIT else 3] += e.amount
    for asset, (posted_net, pending_net, entry_debits, entry_credits) in per_asset.items():
        assert (posted_net, pending_net) == (0, 0), asset
        assert entry_debits == entry_credits, asset
    from_entries: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in entries:
        from_entries[e.account_id][0 if e.side is Side.DEBIT else 1] += e.amount
    for account_id, (_, t) in accounts.items():
        assert [t.debits_posted, t.credits_posted] == from_entries.get(account_id, [0, 0])

    # no limit is breached, and no total is negative or too large to store
    for account, t in accounts.values():
        assert all(0 <= v <= MAX_AMOUNT for v in _fields(t)), account.id
        assert not _breaches(account.limits, t), (account.id, t)
    return StoredLedger(accounts, transfers)


def _fields(t: Totals) -> tuple[int, int, int, int]:
    return t.debits_posted, t.credits_posted, t.debits_pending, t.credits_pending


def _breaches(limits: Limits, t: Totals) -> bool:
    """The limit rule, written out independently of `Totals.check_within`."""
    dp, cp, dpend, cpend = _fields(t)
    over = limits.overdraft_limit
    return (limits.debits_must_not_exceed_credits and dp + dpend - cp > over) or (
        limits.credits_must_not_exceed_debits and cp + cpend - dp > over
    )


# The model


@dataclass
class ModelAccount:
    opened: OpenAccount
    closed: bool = False
    totals: Totals = field(default_factory=Totals)

    @property
    def asset(self) -> str:
        return self.opened.asset


@dataclass
class ModelTransfer:
    postings: tuple[Posting, ...]
    status: str  # posted, pending, voided, expired
    expires_at: dt.datetime | None = None
    effective: tuple[Posting, ...] = ()
    reversed: bool = False
    hold: bool = False


Problems = set[type[LedgerRejection]]


@dataclass
class Model:
    """What the ledger should hold, computed without the ledger's code."""

    accounts: dict[str, ModelAccount] = field(default_factory=dict)
    transfers: dict[str, ModelTransfer] = field(default_factory=dict)

    def posting_problems(self, postings: tuple[Posting, ...]) -> Problems:
        problems: Problems = set()
        for p in postings:
            if not 0 < p.amount <= MAX_AMOUNT:
                problems.add(InvalidAmount)
            account = self.accounts.get(p.account_id)
            if account is None:
                problems.add(UnknownAccount)
                continue
            if account.closed:
                problems.add(AccountClosed)
            if account.asset != p.asset:
                problems.add(AssetMismatch)
        return problems

    def effect_problems(self, changes: list[tuple[Posting, bool, int]]) -> Problems:
        """Overflow or limit problems of adding (posting, pending, sign) changes."""
        after = self._after(changes)
        problems: Problems = set()
        for account_id, t in after.items():
            if any(v > MAX_AMOUNT for v in _fields(t)):
                problems.add(BalanceOverflow)
            elif _breaches(self.accounts[account_id].opened.limits, t):
                problems.add(LimitExceeded)
        return problems

    def apply(self, changes: list[tuple[Posting, bool, int]]) -> None:
        for account_id, t in self._after(changes).items():
            self.accounts[account_id].totals = t

    def _after(self, changes: list[tuple[Posting, bool, int]]) -> dict[str, Totals]:
        after = {p.account_id: self.accounts[p.account_id].totals for p, _, _ in changes}
        for p, pending, sign in changes:
            t = after[p.account_id]
            name = f"{p.side.value}s_{'pending' if pending else 'posted'}"
            value = getattr(t, name) + sign * p.amount
            after[p.account_id] = replace(t, **{name: value})
        return after

    def transfer_problems(self, cmd: PostTransfer) -> Problems:
        problems = self.posting_problems(cmd.postings)
        if problems:
            return problems
        return self.effect_problems([(p, cmd.pending, 1) for p in cmd.postings])

    def accept_transfer(self, cmd: PostTransfer, now: dt.datetime) -> None:
        self.apply([(p, cmd.pending, 1) for p in cmd.postings])
        if cmd.pending:
            expires = (
                now + dt.timedelta(seconds=cmd.timeout_seconds) if cmd.timeout_seconds else None
            )
            self.transfers[cmd.id] = ModelTransfer(cmd.postings, "pending", expires, hold=True)
        else:
            self.transfers[cmd.id] = ModelTransfer(cmd.postings, "posted", effective=cmd.postings)


def _opposite(postings: tuple[Posting, ...]) -> tuple[Posting, ...]:
    return tuple(Posting(p.account_id, p.side.opposite(), p.amount, p.asset) for p in postings)


ASSETS = {"EUR": 2, "ETH": 18}
EUR_AMOUNTS = st.one_of(st.integers(1, 10_000), st.integers(1, 10**9))
ETH_AMOUNTS = st.one_of(
    st.integers(1, 10**18),
    st.integers(2**63 - 2, 2**64 + 2),
    st.integers(10**77, MAX_AMOUNT),
    st.just(MAX_AMOUNT),
)
BAD_AMOUNTS = st.sampled_from([0, -1, -(10**30), MAX_AMOUNT + 1, 10**78 + 10**70])
LIMIT_KINDS = st.sampled_from(["none", "no_overdraft", "overdraft", "no_negative_asset"])


def _limits(kind: str, asset: str) -> tuple[Side, Limits]:
    overdraft = 50_00 if asset == "EUR" else 10**18
    return {
        "none": (Side.CREDIT, Limits()),
        "no_overdraft": (Side.CREDIT, Limits(debits_must_not_exceed_credits=True)),
        "overdraft": (Side.CREDIT, Limits(True, False, overdraft)),
        "no_negative_asset": (Side.DEBIT, Limits(credits_must_not_exceed_debits=True)),
    }[kind]


class LedgerMachine(RuleBasedStateMachine):
    """Drives one ledger through random operations, checking it after every step."""

    fresh_engine: Callable[[], Engine]  # set by each test: an empty, migrated database

    def __init__(self) -> None:
        super().__init__()
        self.engine = type(self).fresh_engine()
        self.clock = ManualClock()
        self.ledger = LedgerService(self.engine, clock=self.clock, actor="state-machine")
        self.model = Model()
        self.accepted: list[PostTransfer | ReverseTransfer | list[PostTransfer]] = []
        self.counter = 0

    def teardown(self) -> None:
        self.engine.dispose()

    def _id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # running an operation against its prediction

    def _run(
        self, call: Callable[[], Any], problems: Problems
    ) -> tuple[Any, LedgerRejection | None]:
        # Only a predicted rejection needs the "before" picture: an unpredicted one fails anyway.
        before = snapshot_ledger(self.engine) if problems else None
        rejected_before, _ = last_rejection(self.engine) if problems else (0, None)
        try:
            result = call()
        except LedgerRejection as exc:
            event(f"rejected: {type(exc).__name__}")
            assert problems, f"unexpected rejection {exc.to_dict()}"
            assert isinstance(exc, tuple(problems)), (exc.to_dict(), problems)
            assert snapshot_ledger(self.engine) == before, "a rejected operation changed the ledger"
            rejected_after, details = last_rejection(self.engine)
            assert rejected_after == rejected_before + 1
            assert details is not None and details["error"]["code"] == exc.code
            return None, exc
        assert not problems, f"expected one of {problems}, but the ledger accepted it"
        event("accepted")
        return result, None

    def _replay_changes_nothing(self, call: Callable[[], Any]) -> Any:
        before = snapshot_ledger(self.engine), last_rejection(self.engine)
        result = call()
        assert (snapshot_ledger(self.engine), last_rejection(self.engine)) == before
        return result

    # drawing

    def _pair(self, data: st.DataObject) -> tuple[str, str, str]:
        asset = data.draw(st.sampled_from(sorted(ASSETS)), label="asset")
        ids = sorted(i for i, a in self.model.accounts.items() if a.asset == asset)
        debit, credit = data.draw(st.permutations(ids), label="accounts")[:2]
        return asset, debit, credit

    def _amount(self, data: st.DataObject, asset: str) -> int:
        return data.draw(EUR_AMOUNTS if asset == "EUR" else ETH_AMOUNTS, label="amount")

    def _transfer(self, data: st.DataObject, *, pending: bool = False) -> PostTransfer:
        asset, debit, credit = self._pair(data)
        amount = self._amount(data, asset)
        timeout = (
            data.draw(st.sampled_from([None, 30, 90, 300]), label="timeout") if pending else None
        )
        return PostTransfer(
            id=self._id("t"),
            postings=(
                Posting(debit, Side.DEBIT, amount, asset),
                Posting(credit, Side.CREDIT, amount, asset),
            ),
            pending=pending,
            timeout_seconds=timeout,
            reference=f"ref {self.counter}",
        )

    # setup

    @initialize()
    def chart_of_accounts(self) -> None:
        for code, scale in ASSETS.items():
            self.ledger.define_asset(DefineAsset(code, scale))
        funding = []
        for asset in ASSETS:
            self._open(f"{asset.lower()}-bank", asset, Side.DEBIT, Limits())
            for kind in ("no_overdraft", "overdraft", "none", "no_negative_asset"):
                side, limits = _limits(kind, asset)
                self._open(f"{asset.lower()}-{kind}", asset, side, limits)
                amount = 1_000_00 if asset == "EUR" else 5 * 10**18
                funding.append(self._funding(f"{asset.lower()}-{kind}", amount))
        self.ledger.post_linked_batch(funding)
        for cmd in funding:
            self.model.accept_transfer(cmd, self.clock.now)
        # the funding source and the limited accounts stay open, so that limits keep being tested
        self.protected = {i for i in self.model.accounts if not i.endswith("-none")}

    def _funding(self, account_id: str, amount: int) -> PostTransfer:
        """A transfer of `amount` from the bank into the account, on the account's normal side."""
        account = self.model.accounts[account_id]
        bank = f"{account.asset.lower()}-bank"
        side = account.opened.normal_side
        postings = (
            Posting(account_id, side, amount, account.asset),
            Posting(bank, side.opposite(), amount, account.asset),
        )
        return PostTransfer(self._id("fund"), postings, reference=f"funding {account_id}")

    def _open(self, account_id: str, asset: str, side: Side, limits: Limits) -> None:
        cmd = OpenAccount(
            account_id, asset, account_id.upper(), f"Account {account_id}", side, limits
        )
        self.ledger.open_account(cmd)
        self.model.accounts[account_id] = ModelAccount(cmd)

    # rules

    @rule(data=st.data(), asset=st.sampled_from(sorted(ASSETS)), kind=LIMIT_KINDS)
    def open_account(self, data: st.DataObject, asset: str, kind: str) -> None:
        side, limits = _limits(kind, asset)
        reuse = data.draw(st.sampled_from(["new", "same", "different"]), label="id")
        if reuse == "new":
            account_id = self._id(f"{asset.lower()}-acct-")
            cmd = OpenAccount(
                account_id, asset, account_id.upper(), f"Account {account_id}", side, limits
            )
            self._run(lambda: self.ledger.open_account(cmd), set())
            self.model.accounts[account_id] = ModelAccount(cmd)
            return
        existing = self.model.accounts[data.draw(st.sampled_from(sorted(self.model.accounts)))]
        if reuse == "same":
            self._replay_changes_nothing(lambda: self.ledger.open_account(existing.opened))
            return
        changed = OpenAccount(**{**_open_fields(existing.opened), "name": "Renamed"})
        self._run(lambda: self.ledger.open_account(changed), {AccountAlreadyExists})

    @rule(data=st.data())
    def close_account(self, data: st.DataObject) -> None:
        account_id = data.draw(st.sampled_from(sorted(set(self.model.accounts) - self.protected)))
        account = self.model.accounts[account_id]
        t = account.totals
        if account.closed:
            self._replay_changes_nothing(
                lambda: self.ledger.close_account(CloseAccount(account_id))
            )
            return
        empty = t.debits_posted == t.credits_posted and not (t.debits_pending or t.credits_pending)
        _, error = self._run(
            lambda: self.ledger.close_account(CloseAccount(account_id)),
            set() if empty else {AccountHasBalance},
        )
        if error is None:
            account.closed = True

    @rule(data=st.data())
    def post_transfer(self, data: st.DataObject) -> None:
        self._post(self._transfer(data))

    @rule(data=st.data())
    def place_hold(self, data: st.DataObject) -> None:
        self._post(self._transfer(data, pending=True))

    @rule(data=st.data(), amount=BAD_AMOUNTS)
    def post_a_bad_amount(self, data: st.DataObject, amount: int) -> None:
        cmd = self._transfer(data)
        bad = PostTransfer(
            cmd.id, tuple(Posting(p.account_id, p.side, amount, p.asset) for p in cmd.postings)
        )
        self._post(bad)

    @rule(data=st.data(), delta=st.sampled_from([-1, 0, 1]), pending=st.booleans())
    def spend_up_to_the_limit(self, data: st.DataObject, delta: int, pending: bool) -> None:
        """Debit a limited account by exactly its headroom, one less, or one more."""
        limited = sorted(
            i
            for i, a in self.model.accounts.items()
            if a.opened.limits.debits_must_not_exceed_credits and not a.closed
        )
        account_id = data.draw(st.sampled_from(limited))
        account = self.model.accounts[account_id]
        if data.draw(st.booleans(), label="fund first"):
            self._post(self._funding(account_id, self._amount(data, account.asset)))
        t = account.totals
        headroom = (
            t.credits_posted
            + account.opened.limits.overdraft_limit
            - t.debits_posted
            - t.debits_pending
        )
        amount = headroom + delta
        others = sorted(
            i
            for i, a in self.model.accounts.items()
            if a.asset == account.asset and i != account_id
        )
        other = data.draw(st.sampled_from(others))
        cmd = PostTransfer(
            self._id("edge"),
            (
                Posting(account_id, Side.DEBIT, amount, account.asset),
                Posting(other, Side.CREDIT, amount, account.asset),
            ),
            pending=pending,
        )
        _, error = self._post(cmd)
        if delta == 1:
            assert isinstance(
                error, LimitExceeded | InvalidAmount | AccountClosed | BalanceOverflow
            )
            if isinstance(error, LimitExceeded):
                assert error.context["account_id"] == account_id

    def _post(self, cmd: PostTransfer) -> tuple[Any, LedgerRejection | None]:
        outcome, error = self._run(
            lambda: self.ledger.post_transfer(cmd), self.model.transfer_problems(cmd)
        )
        if error is None:
            assert not outcome.replayed
            self.model.accept_transfer(cmd, self.clock.now)
            self.accepted.append(cmd)
        return outcome, error

    @precondition(lambda self: any(t.hold for t in self.model.transfers.values()))
    @rule(data=st.data())
    def post_hold(self, data: st.DataObject) -> None:
        hold_id = data.draw(st.sampled_from(self._holds()), label="hold")
        hold = self.model.transfers[hold_id]
        held = hold.postings[0].amount
        amount = data.draw(
            st.one_of(st.none(), st.sampled_from([held, held + 1, 1, 0]), st.integers(1, held)),
            label="amount",
        )
        problems: Problems
        if not self._live(hold):
            problems = {HoldNotPending}
        elif amount is not None and not 0 < amount <= MAX_AMOUNT:
            problems = {InvalidAmount}
        elif amount is not None and amount > held:
            problems = {HoldAmountExceeded}
        else:
            problems = self.model.effect_problems(self._settle(hold, amount))
        _, error = self._run(
            lambda: self.ledger.post_pending(PostPendingTransfer(hold_id, amount)), problems
        )
        if error is None:
            self.model.apply(self._settle(hold, amount))
            hold.status = "posted"
            hold.effective = tuple(
                Posting(p.account_id, p.side, amount or held, p.asset) for p in hold.postings
            )

    def _settle(self, hold: ModelTransfer, amount: int | None) -> list[tuple[Posting, bool, int]]:
        release = [(p, True, -1) for p in hold.postings]
        post = [
            (Posting(p.account_id, p.side, amount or p.amount, p.asset), False, 1)
            for p in hold.postings
        ]
        return release + post

    def _holds(self) -> list[str]:
        return sorted(i for i, t in self.model.transfers.items() if t.hold)

    def _live(self, hold: ModelTransfer) -> bool:
        return hold.status == "pending" and (
            hold.expires_at is None or hold.expires_at > self.clock.now
        )

    @precondition(lambda self: any(t.hold for t in self.model.transfers.values()))
    @rule(data=st.data())
    def void_hold(self, data: st.DataObject) -> None:
        hold_id = data.draw(st.sampled_from(self._holds()), label="hold")
        hold = self.model.transfers[hold_id]
        problems: Problems = set() if self._live(hold) else {HoldNotPending}
        _, error = self._run(
            lambda: self.ledger.void_pending(VoidPendingTransfer(hold_id)), problems
        )
        if error is None:
            self.model.apply([(p, True, -1) for p in hold.postings])
            hold.status = "voided"

    @rule(seconds=st.integers(1, 120))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds=seconds)

    @rule()
    def expire_holds(self) -> None:
        due = {
            i
            for i, t in self.model.transfers.items()
            if t.status == "pending" and t.expires_at is not None and t.expires_at <= self.clock.now
        }
        expired = self.ledger.expire_holds()
        assert {h.id for h in expired} == due
        for hold_id in due:
            hold = self.model.transfers[hold_id]
            self.model.apply([(p, True, -1) for p in hold.postings])
            hold.status = "expired"

    @precondition(lambda self: bool(self.model.transfers))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        original_id = data.draw(st.sampled_from(sorted(self.model.transfers)), label="original")
        original = self.model.transfers[original_id]
        cmd = ReverseTransfer(self._id("rev"), original_id, reference=f"undo {original_id}")
        problems: Problems
        if original.status != "posted":
            problems = {NotReversible}
        elif original.reversed:
            problems = {AlreadyReversed}
        else:
            postings = _opposite(original.effective)
            problems = self.model.posting_problems(postings) or self.model.effect_problems(
                [(p, False, 1) for p in postings]
            )
        outcome, error = self._run(lambda: self.ledger.reverse_transfer(cmd), problems)
        if error is None:
            assert outcome.transfer.reverses == original_id
            postings = _opposite(original.effective)
            self.model.apply([(p, False, 1) for p in postings])
            self.model.transfers[cmd.id] = ModelTransfer(postings, "posted", effective=postings)
            original.reversed = True
            self.accepted.append(cmd)

    @rule(data=st.data(), size=st.integers(2, 4), bad_at=st.sampled_from([None, None, 0, 1, 2, 3]))
    def post_linked_batch(self, data: st.DataObject, size: int, bad_at: int | None) -> None:
        cmds = [self._batch_item(data, index == bad_at) for index in range(size)]
        trial = copy.deepcopy(self.model)
        failure: tuple[int, Problems] | None = None
        for index, cmd in enumerate(cmds):
            problems = trial.transfer_problems(cmd)
            if problems:
                failure = (index, problems)
                break
            trial.accept_transfer(cmd, self.clock.now)
        outcomes, error = self._run(
            lambda: self.ledger.post_linked_batch(cmds), {BatchRejected} if failure else set()
        )
        if failure is not None:
            assert isinstance(error, BatchRejected)
            assert error.index == failure[0]
            assert isinstance(error.cause, tuple(failure[1]))
            return
        assert [o.replayed for o in outcomes] == [False] * size
        self.model = trial
        self.accepted.append(cmds)

    def _batch_item(self, data: st.DataObject, bad: bool) -> PostTransfer:
        cmd = self._transfer(data, pending=data.draw(st.booleans(), label="pending"))
        if not bad:
            return cmd
        kind = data.draw(st.sampled_from(["unknown", "amount", "overdraw"]), label="bad item")
        first, second = cmd.postings
        if kind == "unknown":
            return PostTransfer(
                cmd.id,
                (first, Posting("no-such-account", Side.CREDIT, second.amount, second.asset)),
            )
        amount = MAX_AMOUNT + 1 if kind == "amount" else 10**77
        asset = first.asset
        return PostTransfer(
            cmd.id,
            (
                Posting(f"{asset.lower()}-no_overdraft", Side.DEBIT, amount, asset),
                Posting(f"{asset.lower()}-bank", Side.CREDIT, amount, asset),
            ),
        )

    @rule(data=st.data(), size=st.integers(1, 4))
    def post_bulk(self, data: st.DataObject, size: int) -> None:
        cmds = [self._batch_item(data, data.draw(st.booleans(), label="bad")) for _ in range(size)]
        before, (rejected_before, _) = snapshot_ledger(self.engine), last_rejection(self.engine)
        results = self.ledger.post_bulk(cmds)
        for cmd, result in zip(cmds, results, strict=True):
            problems = self.model.transfer_problems(cmd)
            if problems:
                assert isinstance(result.error, tuple(problems)), (result, problems)
            else:
                assert result.error is None, result.error.to_dict()
                self.model.accept_transfer(cmd, self.clock.now)
                self.accepted.append(cmd)
        if all(r.error for r in results):
            assert snapshot_ledger(self.engine) == before
        rejected = sum(r.error is not None for r in results)
        assert last_rejection(self.engine)[0] == rejected_before + rejected  # each one audited

    @precondition(lambda self: bool(self.accepted))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        cmd = data.draw(st.sampled_from(self.accepted), label="replayed")
        if isinstance(cmd, list):
            outcomes = self._replay_changes_nothing(lambda: self.ledger.post_linked_batch(cmd))
            assert all(o.replayed for o in outcomes)
            return
        if isinstance(cmd, ReverseTransfer):
            outcome = self._replay_changes_nothing(lambda: self.ledger.reverse_transfer(cmd))
        else:
            outcome = self._replay_changes_nothing(lambda: self.ledger.post_transfer(cmd))
        assert outcome.replayed and outcome.transfer.id == cmd.id

    @precondition(lambda self: bool(self.accepted))
    @rule(data=st.data())
    def reuse_an_id_for_another_body(self, data: st.DataObject) -> None:
        cmd = data.draw(st.sampled_from(self.accepted), label="reused")
        first = cmd[0] if isinstance(cmd, list) else cmd
        conflicting = PostTransfer(
            first.id, self._transfer(data).postings, reference="something else"
        )
        self._run(lambda: self.ledger.post_transfer(conflicting), {IdempotencyConflict})

    @invariant()
    def the_ledger_keeps_its_rules_and_matches_the_model(self) -> None:
        stored = check_ledger_invariants(self.engine)
        assert {i: t for i, (_, t) in stored.accounts.items()} == {
            i: a.totals for i, a in self.model.accounts.items()
        }
        assert {i: a.closed for i, (a, _) in stored.accounts.items()} == {
            i: a.closed for i, a in self.model.accounts.items()
        }
        assert {i: t.status.value for i, t in stored.transfers.items()} == {
            i: t.status for i, t in self.model.transfers.items()
        }


def _open_fields(cmd: OpenAccount) -> dict[str, Any]:
    return {name: getattr(cmd, name) for name in OpenAccount.__dataclass_fields__}


STATEFUL_SETTINGS = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture
def fresh_engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """Makes empty, migrated databases: a copied SQLite file, or the truncated PostgreSQL one."""
    engines: list[Engine] = []
    if request.param == "sqlite":
        template = tmp_path / "template.db"
        seed = create_db_engine(f"sqlite:///{template}")
        upgrade(seed)
        seed.dispose()

        def fresh() -> Engine:
            path = tmp_path / f"{uuid.uuid4().hex}.db"
            shutil.copyfile(template, path)
            engines.append(create_db_engine(f"sqlite:///{path}"))
            return engines[-1]

    else:
        url = request.getfixturevalue("postgres_database")
        # Only what the ledger writes: truncating every table in the schema costs ~0.5 s a time.
        emptied = ", ".join([*LEDGER_TABLES, "audit_entries", "processed_events"])

        def fresh() -> Engine:
            engines.append(create_db_engine(url, pool_size=2))
            with engines[-1].begin() as conn:
                conn.execute(text(f"TRUNCATE {emptied} RESTART IDENTITY"))
            return engines[-1]

    yield fresh
    for engine in engines:
        engine.dispose()


@pytest.mark.parametrize(
    "fresh_engines",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_every_step_keeps_the_ledger_balanced_consistent_and_within_limits(fresh_engines):
    machine = type("Ledger", (LedgerMachine,), {"fresh_engine": staticmethod(fresh_engines)})
    run_state_machine_as_test(machine, settings=STATEFUL_SETTINGS)
