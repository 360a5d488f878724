"""How ledger values look on the command line: rich tables for people, JSON for programs."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from twinrail.ledger.domain.model import Balance, Side, Transfer
from twinrail.ledger.domain.money import Asset, format_amount

__all__ = ["balance_json", "transfer_json", "accounts_table", "statement_table"]


def balance_json(balance: Balance, asset: Asset) -> dict[str, Any]:
    return {
        "account_id": balance.account_id,
        "asset": asset.code,
        "posted": format_amount(balance.posted, asset),
        "pending": format_amount(balance.pending, asset),
        "available": format_amount(balance.available, asset),
    }


def transfer_json(t: Transfer) -> dict[str, Any]:
    return {
        "id": t.id,
        "status": t.status.value,
        "effective_at": t.effective_at.isoformat(),
        "recorded_at": t.recorded_at.isoformat(),
        "expires_at": t.expires_at.isoformat() if t.expires_at else None,
        "reference": t.reference,
        "reverses": t.reverses,
        "postings": [p.as_dict() for p in t.postings],
        "settled_postings": [p.as_dict() for p in t.settled_postings],
    }


def accounts_table(rows: list[Any], assets: dict[str, Asset], title: str = "Accounts") -> Table:
    table = Table("code", "name", "asset", "posted", "pending", "available", title=title)
    for a, t in rows:
        b = Balance(a.id, a.asset, a.normal_side, t)
        asset = assets[a.asset]
        table.add_row(
            a.code,
            a.name + (" (closed)" if a.closed else ""),
            a.asset,
            format_amount(b.posted, asset),
            format_amount(b.pending, asset),
            format_amount(b.available, asset),
            style="dim" if a.closed else None,
        )
    for column in table.columns[3:]:
        column.justify = "right"
    return table


def statement_table(page: Any, asset: Asset) -> Table:
    table = Table(
        "effective",
        "reference",
        "debit",
        "credit",
        "balance",
        title=f"Statement of {page.account.code} {page.account.name} ({asset.code})",
        caption=f"opening balance {format_amount(page.opening_balance, asset)}",
    )
    for line in page.lines:
        e = line.entry
        amount = format_amount(e.amount, asset)
        table.add_row(
            e.effective_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.reference or e.transfer_id,
            amount if e.side is Side.DEBIT else "",
            amount if e.side is Side.CREDIT else "",
            format_amount(line.balance_after, asset),
        )
    for column in table.columns[2:]:
        column.justify = "right"
    return table
