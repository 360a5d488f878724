"""Reads and writes the ledger's tables for one unit of work; maps rows to domain values.

Locking: the accounts a command touches are read with SELECT ... FOR UPDATE in id order, so
concurrent writers on PostgreSQL queue on the same rows in the same order and cannot deadlock;
limits are then checked on balances no one else can change until commit. SQLite has one writer
at a time (BEGIN IMMEDIATE), so there the lock clause is simply not emitted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Row, Table, and_, or_, select

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
from twinrail.ledger.domain.model import (
    Account,
    Entry,
    Limits,
    Posting,
    Side,
    Totals,
    Transfer,
    TransferStatus,
)
from twinrail.ledger.domain.money import Asset
from twinrail.ledger.domain.state import LedgerState
from twinrail.ledger.store.tables import accounts, assets, entries, events, transfers
from twinrail.platform.bulk import StagedWrite, as_sqlalchemy_errors
from twinrail.platform.types import amount_sum

__all__ = ["LedgerStore", "entry_row"]

_REPLAY_SQL = "SELECT * FROM ledger_transfers WHERE id = ANY(%s)"
_LOCK_ACCOUNTS_SQL = "SELECT * FROM ledger_accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE"


class LedgerStore:
    """The ledger's persistence on one connection (inside the caller's transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._staged: list[StagedWrite] = []

    # loading

    def load(
        self,
        account_ids: Collection[str] = (),
        transfer_ids: Collection[str] = (),
        *,
        replay_ids: Collection[str] = (),
        with_assets: bool = False,
    ) -> LedgerState:
        """The state slice a command needs, locked for the rest of the transaction.

        `transfer_ids` are transfers the command acts on: they are locked and so are their
        accounts. `replay_ids` are the idempotency keys of transfers the command would create:
        found ones are loaded to answer a replay or a conflict, their accounts are not needed.
        All accounts are locked in one statement in id order, so writers cannot deadlock.
        """
        if self.conn.dialect.name == "postgresql" and not transfer_ids and not with_assets:
            return self._load_in_one_round_trip(account_ids, replay_ids)
        state = LedgerState()
        if with_assets:
            for code, scale in self.conn.execute(select(assets.c.code, assets.c.scale)):
                state.assets[code] = Asset(code, scale)
        wanted = set(account_ids)
        if replay_ids:
            query = select(transfers).where(transfers.c.id.in_(sorted(set(replay_ids))))
            for row in self.conn.execute(query):
                state.transfers[row.id] = _transfer(row)
        if transfer_ids:
            ids = sorted(set(transfer_ids))
            query = select(transfers).where(transfers.c.id.in_(ids)).with_for_update()
            for row in self.conn.execute(query):
                transfer = _transfer(row)
                state.transfers[transfer.id] = transfer
                wanted.update(p.account_id for p in transfer.postings)
            posted = [t.id for t in state.transfers.values() if t.effective_postings()]
            if posted:  # only a posted transfer can have been reversed
                reversed_query = select(transfers.c.reverses).where(
                    transfers.c.reverses.in_(posted)
                )
                state.reversed_ids.update(self.conn.scalars(reversed_query))
        if wanted:
            query = (
                select(accounts)
                .where(accounts.c.id.in_(sorted(wanted)))
                .order_by(accounts.c.id)
                .with_for_update()
            )
            for row in self.conn.execute(query):
                state.accounts[row.id] = _account(row)
                state.totals[row.id] = _totals(row)
        return state

    def _load_in_one_round_trip(
        self, account_ids: Collection[str], replay_ids: Collection[str]
    ) -> LedgerState:
        """PostgreSQL: BEGIN, the replay lookup and the account locks in one pipelined trip.

        This is the hot path of every new transfer; psycopg's pipeline mode sends the three
        statements together, where SQLAlchemy would wait for each (it reads results eagerly).
        """
        state = LedgerState()
        raw = self.conn.connection.dbapi_connection
        assert raw is not None
        with as_sqlalchemy_errors(self.conn, _LOCK_ACCOUNTS_SQL), raw.pipeline():
            found = raw.cursor(row_factory=namedtuple_row)
            found.execute(_REPLAY_SQL, (sorted(set(replay_ids)),))
            locked = raw.cursor(row_factory=namedtuple_row)
            locked.execute(_LOCK_ACCOUNTS_SQL, (sorted(set(account_ids)),))
        with as_sqlalchemy_errors(self.conn, _LOCK_ACCOUNTS_SQL):
            found_rows, locked_rows = found.fetchall(), locked.fetchall()
        for row in found_rows:
            state.transfers[row.id] = _transfer(row)
        for row in locked_rows:
            state.accounts[row.id] = _account(row)
            state.totals[row.id] = _totals(row)
        return state

    def account(self, account_id: str) -> tuple[Account, Totals] | None:
        row = self.conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
        return (_account(row), _totals(row)) if row else None

    def asset(self, code: str) -> Asset | None:
        row = self.conn.execute(select(assets).where(assets.c.code == code)).first()
        return Asset(row.code, row.scale) if row else None

    def list_assets(self) -> list[Asset]:
        return [Asset(r.code, r.scale) for r in self.conn.execute(select(assets).order_by("code"))]

    def list_accounts(self) -> list[tuple[Account, Totals]]:
        rows = self.conn.execute(select(accounts).order_by(accounts.c.code, accounts.c.id))
        return [(_account(r), _totals(r)) for r in rows]

    def transfer(self, transfer_id: str) -> Transfer | None:
        row = self.conn.execute(select(transfers).where(transfers.c.id == transfer_id)).first()
        return _transfer(row) if row else None

    def expired_hold_ids(self, now: dt.datetime, limit: int) -> list[str]:
        query = (
            select(transfers.c.id)
            .where(transfers.c.status == "pending", transfers.c.expires_at <= now)
            .order_by(transfers.c.expires_at, transfers.c.id)
            .limit(limit)
        )
        return list(self.conn.scalars(query))

    def posted_totals_as_of(self, account_id: str, as_of: dt.datetime) -> Totals:
        """Posted debits and credits of entries effective at or before `as_of`."""
        query = (
            select(entries.c.side, amount_sum(entries.c.amount))
            .where(entries.c.account_id == account_id, entries.c.effective_at <= as_of)
            .group_by(entries.c.side)
        )
        sums = {side: total or 0 for side, total in self.conn.execute(query)}
        return Totals(debits_posted=sums.get("debit", 0), credits_posted=sums.get("credit", 0))

    def entries_page(
        self,
        account_id: str,
        start: dt.datetime | None,
        end: dt.datetime | None,
        after: tuple[dt.datetime, int] | None,
        limit: int,
    ) -> list[tuple[int, Entry]]:
        """Entries of an account in [start, end), ordered by (effective_at, id), after a cursor."""
        query = select(entries).where(entries.c.account_id == account_id)
        if start is not None:
            query = query.where(entries.c.effective_at >= start)
        if end is not None:
            query = query.where(entries.c.effective_at < end)
        if after is not None:
            query = query.where(_after(after))
        query = query.order_by(entries.c.effective_at, entries.c.id).limit(limit)
        return [(r.id, _entry(r)) for r in self.conn.execute(query)]

    def totals_before(self, account_id: str, position: tuple[dt.datetime, int]) -> Totals:
        """Posted totals of every entry ordered before `position` (for running balances)."""
        at, entry_id = position
        query = (
            select(entries.c.side, amount_sum(entries.c.amount))
            .where(
                entries.c.account_id == account_id,
                or_(
                    entries.c.effective_at < at,
                    and_(entries.c.effective_at == at, entries.c.id < entry_id),
                ),
            )
            .group_by(entries.c.side)
        )
        sums = {side: total or 0 for side, total in self.conn.execute(query)}
        return Totals(debits_posted=sums.get("debit", 0), credits_posted=sums.get("credit", 0))

    def transfers_by_ids(self, ids: Collection[str]) -> dict[str, Transfer]:
        rows = self.conn.execute(select(transfers).where(transfers.c.id.in_(sorted(set(ids)))))
        return {row.id: _transfer(row) for row in rows}

    def iter_events(self, batch: int = 5000) -> Iterable[tuple[int, str, dict[str, Any]]]:
        """Every stored event in append order, as (position, topic, data)."""
        last = 0
        while True:
            rows = self.conn.execute(
                select(events.c.position, events.c.topic, events.c.data)
                .where(events.c.position > last)
                .order_by(events.c.position)
                .limit(batch)
            ).all()
            if not rows:
                return
            yield from ((r.position, r.topic, r.data) for r in rows)
            last = rows[-1].position

    def count_events(self) -> int:
        from sqlalchemy import func

        return int(self.conn.scalar(select(func.count()).select_from(events)) or 0)

    def all_entries(self) -> Iterable[Entry]:
        for row in self.conn.execute(select(entries).order_by(entries.c.id)):
            yield _entry(row)

    def all_transfers(self) -> Iterable[Transfer]:
        for row in self.conn.execute(select(transfers).order_by(transfers.c.id)):
            yield _transfer(row)

    # saving: rows are computed at once, written by the unit of work at commit

    def save(self, state: LedgerState, new_events: Sequence[LedgerEvent], now: dt.datetime) -> None:
        """Stage `new_events` for the event store and the projection rows they change."""
        if not new_events:
            return
        self._stage(
            events,
            [
                {
                    "stream_id": e.stream_id,
                    "version": e.stream_version,
                    "topic": e.topic,
                    "data": e.payload(),
                    "recorded_at": now,
                }
                for e in new_events
            ],
        )
        touched: set[str] = set()
        settled: list[dict[str, Any]] = []
        for e in new_events:
            match e:
                case AssetDefined(code=code, scale=scale):
                    self._stage(assets, [{"code": code, "scale": scale}])
                case AccountOpened(account=a):
                    self._stage(accounts, [_account_row(a)])
                case AccountClosed(account_id=account_id):
                    self._stage_update(accounts, [{"id": account_id, "closed": True}])
                case TransferPosted(transfer=t) | HoldPlaced(transfer=t):
                    self._stage(transfers, [_transfer_row(state.transfers[t.id])])
                    touched.update(p.account_id for p in t.postings)
                case (
                    HoldPosted(transfer_id=tid)
                    | HoldVoided(transfer_id=tid)
                    | HoldExpired(transfer_id=tid)
                ):
                    t = state.transfers[tid]
                    settled.append(
                        {
                            "id": tid,
                            "status": t.status.value,
                            "settled_postings": [p.as_dict() for p in t.settled_postings] or None,
                            "version": t.version,
                        }
                    )
                    touched.update(p.account_id for p in t.postings)
        self._stage_update(transfers, settled)
        self._stage(entries, [entry_row(x) for x in state.new_entries])
        state.new_entries.clear()
        self._stage_update(
            accounts,
            [_totals_row(account_id, state.totals[account_id]) for account_id in sorted(touched)],
        )

    def take_staged(self) -> list[StagedWrite]:
        """Hand over (and forget) the writes staged since the last call."""
        staged, self._staged = self._staged, []
        return staged

    def has_staged_rows(self) -> bool:
        return bool(self._staged)

    def _stage(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        last = self._staged[-1] if self._staged else None
        if (
            last is not None
            and last.table is table
            and last.key is None
            and last.rows[0].keys() == rows[0].keys()
        ):
            last.rows.extend(rows)  # one statement for consecutive rows of the same table
        else:
            self._staged.append(StagedWrite(table, rows))

    def _stage_update(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._staged.append(StagedWrite(table, rows, key="id"))


def _after(position: tuple[dt.datetime, int]) -> Any:
    at, entry_id = position
    return or_(
        entries.c.effective_at > at, and_(entries.c.effective_at == at, entries.c.id > entry_id)
    )


def _account(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        asset=row.asset,
        code=row.code,
        name=row.name,
        normal_side=Side(row.normal_side),
        limits=Limits(
            row.debits_must_not_exceed_credits,
            row.credits_must_not_exceed_debits,
            int(row.overdraft_limit),  # int() also for psycopg's raw Decimal
        ),
        metadata=row.metadata,
        closed=row.closed,
        opened_at=row.opened_at,
    )


def _totals(row: Row[Any]) -> Totals:
    return Totals(
        int(row.debits_posted),
        int(row.credits_posted),
        int(row.debits_pending),
        int(row.credits_pending),
    )


def _account_row(a: Account) -> dict[str, Any]:
    return {
        "id": a.id,
        "asset": a.asset,
        "code": a.code,
        "name": a.name,
        "normal_side": a.normal_side.value,
        "debits_must_not_exceed_credits": a.limits.debits_must_not_exceed_credits,
        "credits_must_not_exceed_debits": a.limits.credits_must_not_exceed_debits,
        "overdraft_limit": a.limits.overdraft_limit,
        "metadata": a.metadata,
        "closed": a.closed,
        "opened_at": a.opened_at,
        "debits_posted": 0,
        "credits_posted": 0,
        "debits_pending": 0,
        "credits_pending": 0,
    }


def _totals_row(account_id: str, t: Totals) -> dict[str, Any]:
    return {
        "id": account_id,
        "debits_posted": t.debits_posted,
        "credits_posted": t.credits_posted,
        "debits_pending": t.debits_pending,
        "credits_pending": t.credits_pending,
    }


def _postings(data: list[dict[str, Any]] | None) -> tuple[Posting, ...]:
    return tuple(Posting.from_dict(p) for p in data or ())


def _transfer(row: Row[Any]) -> Transfer:
    return Transfer(
        id=row.id,
        postings=_postings(row.postings),
        status=TransferStatus(row.status),
        effective_at=row.effective_at,
        recorded_at=row.recorded_at,
        body_hash=row.body_hash,
        reference=row.reference,
        metadata=row.metadata,
        expires_at=row.expires_at,
        reverses=row.reverses,
        settled_postings=_postings(row.settled_postings),
        version=row.version,
    )


def _transfer_row(t: Transfer) -> dict[str, Any]:
    return {
        "id": t.id,
        "status": t.status.value,
        "postings": [p.as_dict() for p in t.postings],
        "settled_postings": [p.as_dict() for p in t.settled_postings] or None,
        "effective_at": t.effective_at,
        "recorded_at": t.recorded_at,
        "expires_at": t.expires_at,
        "reference": t.reference,
        "metadata": t.metadata,
        "body_hash": t.body_hash,
        "reverses": t.reverses,
        "version": t.version,
    }


def _entry(row: Row[Any]) -> Entry:
    return Entry(
        transfer_id=row.transfer_id,
        account_id=row.account_id,
        side=Side(row.side),
        amount=row.amount,
        asset=row.asset,
        effective_at=row.effective_at,
        reference=row.reference,
    )


def entry_row(e: Entry) -> dict[str, Any]:
    return {
        "transfer_id": e.transfer_id,
        "account_id": e.account_id,
        "side": e.side.value,
        "amount": e.amount,
        "asset": e.asset,
        "effective_at": e.effective_at,
        "reference": e.reference,
    }
