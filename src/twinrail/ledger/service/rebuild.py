"""Replaying the event store into fresh projections and comparing them with the stored ones.

The stored projections (account totals and flags, transfer statuses, statement entries) are
written in the same transaction as the events, so any difference means something bypassed the
ledger (a manual UPDATE, a bad migration, a bug). `check` reports; `repair` rewrites totals and
statuses from the fold and appends missing entries, but never deletes an entry (append-only):
an entry that no event explains is reported and left for a person to look at.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, insert, update

from twinrail.ledger.domain.events import event_from_record
from twinrail.ledger.domain.model import Entry
from twinrail.ledger.domain.state import LedgerState
from twinrail.ledger.store.ledger_store import LedgerStore, entry_row
from twinrail.ledger.store.tables import accounts, entries, transfers
from twinrail.platform.db import READ_ONLY

__all__ = ["RebuildReport", "replay_events", "check_projections", "repair_projections"]

Progress = Callable[[int, int], None]  # (events done, events in all)


@dataclass
class RebuildReport:
    events: int = 0
    accounts: int = 0
    transfers: int = 0
    entries: int = 0
    differences: list[str] = field(default_factory=list)
    missing_entries: list[Entry] = field(default_factory=list)
    unexplained_entries: list[Entry] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def replay_events(store: LedgerStore, progress: Progress | None = None) -> tuple[LedgerState, int]:
    """Fold every stored event, in append order, into an empty state."""
    total = store.count_events()
    state = LedgerState()
    done = 0
    for _, topic, data in store.iter_events():
        state.apply(event_from_record(topic, data))
        done += 1
        if progress and (done % 1000 == 0 or done == total):
            progress(done, total)
    return state, done


def check_projections(engine: Engine, progress: Progress | None = None) -> RebuildReport:
    """Replay all events and list every way the stored projections differ from the fold."""
    with engine.connect().execution_options(**READ_ONLY) as conn:
        store = LedgerStore(conn)
        state, count = replay_events(store, progress)
        report = RebuildReport(events=count)
        _compare_accounts(store, state, report)
        _compare_transfers(store, state, report)
        _compare_entries(store, state, report)
    return report


def repair_projections(engine: Engine, progress: Progress | None = None) -> RebuildReport:
    """Rewrite totals and statuses from the fold and append missing entries; report the rest."""
    report = check_projections(engine, progress)
    if report.ok:
        return report
    with engine.begin() as conn:
        store = LedgerStore(conn)
        state, _ = replay_events(store)
        for account_id, totals in state.totals.items():
            conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(
                    closed=state.accounts[account_id].closed,
                    debits_posted=totals.debits_posted,
                    credits_posted=totals.credits_posted,
                    debits_pending=totals.debits_pending,
                    credits_pending=totals.credits_pending,
                )
            )
        for t in state.transfers.values():
            conn.execute(
                update(transfers)
                .where(transfers.c.id == t.id)
                .values(
                    status=t.status.value,
                    settled_postings=[p.as_dict() for p in t.settled_postings] or None,
                    version=t.version,
                )
            )
        if report.missing_entries:
            conn.execute(insert(entries), [entry_row(e) for e in report.missing_entries])
    return report


def _compare_accounts(store: LedgerStore, state: LedgerState, report: RebuildReport) -> None:
    stored = {a.id: (a, t) for a, t in store.list_accounts()}
    report.accounts = len(stored)
    for account_id in sorted(set(stored) | set(state.accounts)):
        if account_id not in stored:
            report.differences.append(f"account {account_id}: opened by events, not stored")
            continue
        if account_id not in state.accounts:
            report.differences.append(f"account {account_id}: stored, but no event opened it")
            continue
        account, totals = stored[account_id]
        replayed = state.totals[account_id]
        if totals != replayed:
            report.differences.append(
                f"account {account_id}: stored totals {totals} != replayed {replayed}"
            )
        if account.closed != state.accounts[account_id].closed:
            report.differences.append(f"account {account_id}: closed flag differs")


def _compare_transfers(store: LedgerStore, state: LedgerState, report: RebuildReport) -> None:
    seen = set()
    for t in store.all_transfers():
        seen.add(t.id)
        report.transfers += 1
        replayed = state.transfers.get(t.id)
        if replayed is None:
            report.differences.append(f"transfer {t.id}: stored, but no event recorded it")
        elif (t.status, t.postings, t.settled_postings) != (
            replayed.status,
            replayed.postings,
            replayed.settled_postings,
        ):
            report.differences.append(
                f"transfer {t.id}: stored {t.status} differs from replayed {replayed.status}"
            )
    for missing in sorted(set(state.transfers) - seen):
        report.differences.append(f"transfer {missing}: recorded by events, not stored")


def _compare_entries(store: LedgerStore, state: LedgerState, report: RebuildReport) -> None:
    # Concurrent writers interleave entry ids and event positions differently, so entries are
    # compared as a multiset rather than in order.
    expected = Counter(state.new_entries)
    actual: Counter[Entry] = Counter()
    for e in store.all_entries():
        actual[e] += 1
        report.entries += 1
    for e, n in (expected - actual).items():
        report.missing_entries.extend([e] * n)
        report.differences.append(f"entry missing: {e.transfer_id} {e.side} {e.account_id}")
    for e, n in (actual - expected).items():
        report.unexplained_entries.extend([e] * n)
        report.differences.append(f"entry unexplained: {e.transfer_id} {e.side} {e.account_id}")
