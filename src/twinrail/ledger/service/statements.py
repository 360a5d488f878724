"""Account statements: posted entries with a running balance, paged by an opaque cursor.

The cursor is the (effective_at, entry id) of the last line shown; the opening balance of a page
is the sum of every entry ordered before its first line, so any page can be read on its own.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from twinrail.ledger.domain.errors import InvalidTransfer, UnknownAccount
from twinrail.ledger.domain.model import Account, Balance, Entry, Totals, Transfer
from twinrail.ledger.store.ledger_store import LedgerStore

__all__ = [
    "StatementLine",
    "StatementPage",
    "TransferPage",
    "build_statement",
    "build_transfer_page",
    "encode_cursor",
    "decode_cursor",
]


@dataclass(frozen=True, slots=True)
class StatementLine:
    entry: Entry
    balance_after: int  # posted balance in the account's normal side, after this entry


@dataclass(frozen=True, slots=True)
class StatementPage:
    account: Account
    opening_balance: int
    lines: tuple[StatementLine, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class TransferPage:
    transfers: tuple[Transfer, ...]
    next_cursor: str | None


def encode_cursor(at: dt.datetime, entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{entry_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        at, entry_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return dt.datetime.fromisoformat(at), int(entry_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidTransfer("the statement cursor is not valid", cursor=cursor) from exc


def build_statement(
    conn: Connection,
    account_id: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    cursor: str | None,
    limit: int,
) -> StatementPage:
    store = LedgerStore(conn)
    found = store.account(account_id)
    if found is None:
        raise UnknownAccount(f"account {account_id} does not exist", account_id=account_id)
    account = found[0]
    after = decode_cursor(cursor) if cursor else None
    rows = store.entries_page(account_id, start, end, after, limit + 1)
    page, more = rows[:limit], len(rows) > limit
    if page:
        first_id, first = page[0]
        before = store.totals_before(account_id, (first.effective_at, first_id))
    else:
        before = Totals()
    running = Balance(account.id, account.asset, account.normal_side, before).posted
    opening = running
    lines = []
    for _, entry in page:
        sign = 1 if entry.side is account.normal_side else -1
        running += sign * entry.amount
        lines.append(StatementLine(entry, running))
    next_cursor = encode_cursor(page[-1][1].effective_at, page[-1][0]) if more else None
    return StatementPage(account, opening, tuple(lines), next_cursor)


def build_transfer_page(
    conn: Connection,
    account_id: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    cursor: str | None,
    limit: int,
) -> TransferPage:
    """Posted transfers touching an account in [start, end), oldest first, a page at a time.

    An account appears at most once in a transfer, so its entries and its transfers correspond
    one to one and page by the same cursor as the statement.
    """
    store = LedgerStore(conn)
    if store.account(account_id) is None:
        raise UnknownAccount(f"account {account_id} does not exist", account_id=account_id)
    after = decode_cursor(cursor) if cursor else None
    rows = store.entries_page(account_id, start, end, after, limit + 1)
    page, more = rows[:limit], len(rows) > limit
    found = store.transfers_by_ids([e.transfer_id for _, e in page])
    next_cursor = encode_cursor(page[-1][1].effective_at, page[-1][0]) if more else None
    return TransferPage(tuple(found[e.transfer_id] for _, e in page), next_cursor)
