"""The ledger as a plain-text double-entry journal that hledger (and ledger-cli) can read.

An independent accounting tool should compute the same balances as the ledger, so the journal
says exactly what moved and nothing else:

- One transaction per transfer that reached posted balances, marked cleared (`*`) and dated by
  the UTC day its entries are effective (for a settled hold, the moment it was posted, as in the
  ledger's statements). The transfer id is its code, `(id)`, and a tag, beside the exact
  effective time and any reversed transfer.
- Live holds are left out by default, so `hledger balance` shows posted balances. With
  `include_holds=True` each live hold is a pending (`!`) transaction: `hledger balance --cleared`
  then shows posted balances and `hledger balance` posted plus pending. Voided and expired holds
  never touched a balance and are never written.
- Amounts are exact. Each asset gets a `commodity` directive whose sample amount carries its
  scale (`1000.000000000000000000 ETH`: a decimal point, no digit groups; none for scale 0), and
  every amount is written with exactly that many decimals, so 78-digit wei amounts survive
  unrounded (hledger and ledger-cli both compute with arbitrary-precision decimals).
  Debits are positive and credits negative, the journal convention: a credit-normal account
  (a liability, income) shows a negative balance.
- Accounts are named "<code> <name>" from the chart of accounts, made safe for journal syntax
  (see `journal_account_names`), and declared with `account` directives carrying the ledger id.

Nothing is loaded whole: the chart of accounts is read into memory, the entries are streamed in
(effective_at, transfer_id) order from one consistent snapshot (REPEATABLE READ on PostgreSQL,
one read transaction on SQLite), and each transfer is written as soon as its lines are read.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, select

from twinrail.ledger.domain.model import Account, Posting, Side, TransferStatus
from twinrail.ledger.domain.money import Asset, format_amount
from twinrail.ledger.store.ledger_store import LedgerStore
from twinrail.ledger.store.tables import entries, transfers
from twinrail.platform.db import READ_ONLY

__all__ = [
    "JournalTransaction",
    "JournalSummary",
    "export_journal",
    "write_journal",
    "journal_account_names",
    "commodity_symbol",
]

_STREAM_BATCH = 2000


@dataclass(frozen=True, slots=True)
class JournalTransaction:
    """One journal transaction: a posted transfer's entries, or a live hold's postings."""

    transfer_id: str
    effective_at: dt.datetime
    reference: str
    postings: tuple[Posting, ...]
    pending: bool = False
    reverses: str | None = None


@dataclass(frozen=True, slots=True)
class JournalSummary:
    """What an export wrote."""

    accounts: int
    transactions: int
    holds: int
    postings: int


def export_journal(engine: Engine, out: TextIO, *, include_holds: bool = False) -> JournalSummary:
    """Write the whole ledger to `out` as a journal, from one consistent read-only snapshot."""
    options: dict[str, Any] = {**READ_ONLY, "yield_per": _STREAM_BATCH}
    if engine.dialect.name == "postgresql":
        options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    with engine.connect().execution_options(**options) as conn:
        store = LedgerStore(conn)
        assets = store.list_assets()
        accounts = [account for account, _ in store.list_accounts()]
        stream: Iterable[JournalTransaction] = _posted_transactions(conn)
        if include_holds:
            stream = heapq.merge(stream, _live_holds(conn), key=_chronological)
        return write_journal(out, assets, accounts, stream, include_holds=include_holds)


def write_journal(
    out: TextIO,
    assets: Iterable[Asset],
    accounts: Iterable[Account],
    transactions: Iterable[JournalTransaction],
    *,
    include_holds: bool = False,
) -> JournalSummary:
    """Write directives for `assets` and `accounts`, then each transaction, to `out`."""
    by_code = {asset.code: asset for asset in sorted(assets, key=lambda a: a.code)}
    chart = sorted(accounts, key=lambda a: (a.code, a.id))
    names = journal_account_names(chart)
    out.write("; twinrail ledger export: a double-entry journal in hledger / ledger-cli syntax\n")
    out.write("; debits are positive, credits negative; amounts are exact in each asset's scale\n")
    if include_holds:
        out.write("; live holds are pending (!) transactions: use --cleared for posted balances\n")
    else:
        out.write("; live holds are left out: balances are posted balances\n")
    for asset in by_code.values():
        out.write(_commodity_directive(asset))
    for account in chart:
        out.write(
            f"\naccount {names[account.id]}\n    ; ledger_id: {_tag_value(account.id)}, "
            f"asset: {account.asset}, normal_side: {account.normal_side.value}\n"
        )
    written = holds = postings = 0
    for tx in transactions:
        _write_transaction(out, tx, names, by_code)
        written += 1
        holds += tx.pending
        postings += len(tx.postings)
    return JournalSummary(len(chart), written, holds, postings)


def journal_account_names(accounts: Iterable[Account]) -> dict[str, str]:
    """A journal account name per account id: "<code> <name>", unique and safe to parse.

    Whitespace runs become one space (two spaces end a name); ';' (a comment) becomes ',';
    ':' (a sub-account) becomes '-'; leading status marks and enclosing brackets (virtual
    postings) are dropped. Two accounts that would share a name get their id appended.
    """
    names: dict[str, str] = {}
    used: set[str] = set()
    for account in accounts:
        label = (
            account.code if account.name in ("", account.code) else f"{account.code} {account.name}"
        )
        base = _safe_name(label) or _safe_name(account.id) or "account"
        name = base if base not in used else f"{base} ({_safe_name(account.id)})"
        suffix = 2
        while name in used:
            name, suffix = f"{base} ({_safe_name(account.id)} {suffix})", suffix + 1
        used.add(name)
        names[account.id] = name
    return names


def commodity_symbol(code: str) -> str:
    """The asset code as a journal commodity; codes with digits must be quoted."""
    return code if code.isalpha() else f'"{code}"'


def _commodity_directive(asset: Asset) -> str:
    symbol = commodity_symbol(asset.code)
    if asset.scale == 0:
        # hledger wants a decimal mark in a format and ledger-cli refuses "1000."; amounts
        # without decimals cannot be misread, so the bare declaration suits both
        return f"\ncommodity {symbol}\n"
    sample = format_amount(1000 * 10**asset.scale, asset)
    return f"\ncommodity {symbol}\n    format {sample} {symbol}\n"


def _write_transaction(
    out: TextIO, tx: JournalTransaction, names: Mapping[str, str], assets: Mapping[str, Asset]
) -> None:
    day = tx.effective_at.astimezone(dt.UTC).date().isoformat()
    tags = f"transfer_id: {_tag_value(tx.transfer_id)}, effective_at: {tx.effective_at.isoformat()}"
    if tx.reverses:
        tags += f", reverses: {_tag_value(tx.reverses)}"
    description = _safe_text(tx.reference) or "transfer"
    # with the transfer id as the transaction code, a description "(...)" is not read as one
    code = _safe_text(tx.transfer_id).replace(")", "]")
    out.write(f"\n{day} {'!' if tx.pending else '*'} ({code}) {description}  ; {tags}\n")
    for p in tx.postings:
        amount = format_amount(p.amount if p.side is Side.DEBIT else -p.amount, assets[p.asset])
        out.write(f"    {names[p.account_id]}  {amount} {commodity_symbol(p.asset)}\n")


def _posted_transactions(conn: Connection) -> Iterator[JournalTransaction]:
    """Posted entries grouped into transfers, in (effective_at, transfer_id) order."""
    # Grouping needs a transfer's entries together: entry ids alone do not promise that on
    # PostgreSQL, where concurrent writers interleave sequence values. The database sorts
    # (spilling to disk if it must), so memory stays bounded by one transfer.
    query = (
        select(entries, transfers.c.reverses)
        .join(transfers, transfers.c.id == entries.c.transfer_id)
        .order_by(entries.c.effective_at, entries.c.transfer_id, entries.c.id)
    )
    rows = conn.execute(query)
    for (effective_at, transfer_id), group in groupby(
        rows, key=lambda r: (r.effective_at, r.transfer_id)
    ):
        lines = list(group)
        postings = tuple(Posting(r.account_id, Side(r.side), r.amount, r.asset) for r in lines)
        _check_balanced(transfer_id, postings)
        yield JournalTransaction(
            transfer_id, effective_at, lines[0].reference, postings, reverses=lines[0].reverses
        )


def _live_holds(conn: Connection) -> Iterator[JournalTransaction]:
    query = (
        select(
            transfers.c.id, transfers.c.effective_at, transfers.c.reference, transfers.c.postings
        )
        .where(transfers.c.status == TransferStatus.PENDING.value)
        .order_by(transfers.c.effective_at, transfers.c.id)
    )
    for row in conn.execute(query):
        postings = tuple(Posting.from_dict(p) for p in row.postings)
        yield JournalTransaction(row.id, row.effective_at, row.reference, postings, pending=True)


def _chronological(tx: JournalTransaction) -> tuple[dt.datetime, str]:
    return tx.effective_at, tx.transfer_id


def _check_balanced(transfer_id: str, postings: tuple[Posting, ...]) -> None:
    net: dict[str, int] = defaultdict(int)
    for p in postings:
        net[p.asset] += p.amount if p.side is Side.DEBIT else -p.amount
    if any(net.values()):
        raise ValueError(f"the entries of transfer {transfer_id} do not balance; not exported")


_WHITESPACE = re.compile(r"\s+")


def _safe_text(text: str) -> str:
    """One line with no comment start: for descriptions."""
    return _WHITESPACE.sub(" ", text).replace(";", ",").strip()


def _safe_name(text: str) -> str:
    name = _safe_text(text).replace(":", "-")
    return name.lstrip("*!#([ ").rstrip(")] ")


def _tag_value(text: str) -> str:
    """A tag value ends at a comma or the end of the line."""
    return _safe_text(text).replace(",", "_")
