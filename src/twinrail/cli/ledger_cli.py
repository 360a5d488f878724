"""`twinrail ledger ...`: accounts, transfers, holds, balances, statements, rebuild, export."""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from enum import StrEnum
from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from twinrail.bootstrap import bootstrap
from twinrail.cli.ledger_views import accounts_table, balance_json, statement_table, transfer_json
from twinrail.cli.output import JsonOption, console, err_console, handled, print_json
from twinrail.ledger.adapters.journal_export import export_journal
from twinrail.ledger.domain.commands import (
    CloseAccount,
    DefineAsset,
    OpenAccount,
    PostPendingTransfer,
    PostTransfer,
    ReverseTransfer,
    VoidPendingTransfer,
)
from twinrail.ledger.domain.errors import InvalidAmount, UnknownAsset
from twinrail.ledger.domain.model import Balance, Limits, Posting, Side
from twinrail.ledger.domain.money import Asset, format_amount, to_minor_units
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.ledger.service.rebuild import check_projections, repair_projections

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)


def _ledger() -> LedgerService:
    return bootstrap().ledger.acting_as("cli")


def _asset(ledger: LedgerService, code: str) -> Asset:
    for asset in ledger.assets():
        if asset.code == code:
            return asset
    raise UnknownAsset(f"asset {code} is not defined", asset=code)


def _parse_time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 date or time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@app.command("define-asset")
@handled
def define_asset(code: str, scale: int) -> None:
    """Define an asset with its scale (EUR 2, USDC 6, ETH 18)."""
    asset = _ledger().define_asset(DefineAsset(code, scale))
    console.print(f"asset [bold]{asset.code}[/] with {asset.scale} decimals")


@app.command("assets")
@handled
def list_assets(as_json: bool = JsonOption) -> None:
    """List assets."""
    assets = _ledger().assets()
    if as_json:
        print_json([{"code": a.code, "scale": a.scale} for a in assets])
        return
    table = Table("code", "scale", title="Assets")
    for a in assets:
        table.add_row(a.code, str(a.scale))
    console.print(table)


@app.command("open-account")
@handled
def open_account(
    account_id: str,
    asset: str = typer.Option(..., help="Asset code, e.g. EUR."),
    code: str = typer.Option(..., help="Code in the chart of accounts, e.g. 2100."),
    name: str = typer.Option(..., help="Human-readable name."),
    side: Side = typer.Option(Side.CREDIT, help="Normal side."),
    no_overdraft: bool = typer.Option(False, help="Debits must not exceed credits."),
    overdraft_limit: str = typer.Option("0", help="Allowed overdraft, in major units."),
) -> None:
    """Open an account."""
    ledger = _ledger()
    limit = (
        0
        if overdraft_limit in ("0", "")
        else to_minor_units(overdraft_limit, _asset(ledger, asset))
    )
    account = ledger.open_account(
        OpenAccount(account_id, asset, code, name, side, Limits(no_overdraft, False, limit))
    )
    console.print(f"account [bold]{account.id}[/] ({account.code} {account.name}, {account.asset})")


@app.command("close-account")
@handled
def close_account(account_id: str) -> None:
    """Close an account with a zero balance; it accepts no new postings."""
    _ledger().close_account(CloseAccount(account_id))
    console.print(f"account [bold]{account_id}[/] closed")


@app.command("accounts")
@handled
def list_accounts(as_json: bool = JsonOption) -> None:
    """List accounts with their balances."""
    ledger = _ledger()
    scales = {a.code: a for a in ledger.assets()}
    rows = ledger.accounts()
    if as_json:
        print_json(
            [
                {
                    "id": a.id,
                    "code": a.code,
                    "name": a.name,
                    "normal_side": a.normal_side.value,
                    "closed": a.closed,
                    **balance_json(Balance(a.id, a.asset, a.normal_side, t), scales[a.asset]),
                }
                for a, t in rows
            ]
        )
        return
    console.print(accounts_table(rows, scales))


@app.command("balance")
@handled
def balance(
    account_id: str,
    as_of: str | None = typer.Option(None, help="ISO time: posted balance as of then."),
    as_json: bool = JsonOption,
) -> None:
    """Show an account's balance now or as of a past time."""
    ledger = _ledger()
    b = ledger.balance(account_id, as_of=_parse_time(as_of))
    data = balance_json(b, _asset(ledger, b.asset))
    if as_json:
        print_json(data)
    else:
        console.print(data)


@app.command("statement")
@handled
def statement(
    account_id: str,
    start: str | None = typer.Option(None, "--from", help="ISO time, inclusive."),
    end: str | None = typer.Option(None, "--to", help="ISO time, exclusive."),
    cursor: str | None = typer.Option(None, help="Cursor from the previous page."),
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """An account's posted entries with running balance, one page at a time."""
    ledger = _ledger()
    page = ledger.statement(
        account_id, start=_parse_time(start), end=_parse_time(end), cursor=cursor, limit=limit
    )
    asset = _asset(ledger, page.account.asset)
    if as_json:
        print_json(
            {
                "account_id": account_id,
                "opening_balance": format_amount(page.opening_balance, asset),
                "lines": [
                    {
                        "transfer_id": line.entry.transfer_id,
                        "effective_at": line.entry.effective_at.isoformat(),
                        "side": line.entry.side.value,
                        "amount": format_amount(line.entry.amount, asset),
                        "balance_after": format_amount(line.balance_after, asset),
                        "reference": line.entry.reference,
                    }
                    for line in page.lines
                ],
                "next_cursor": page.next_cursor,
            }
        )
        return
    console.print(statement_table(page, asset))
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


@app.command("post")
@handled
def post(
    debit: str = typer.Option(..., help="Account debited."),
    credit: str = typer.Option(..., help="Account credited."),
    amount: str = typer.Option(..., help="Amount in major units, e.g. 12.34."),
    asset: str = typer.Option(..., help="Asset code."),
    transfer_id: str = typer.Option(None, "--id", help="Idempotency id (default: new UUID)."),
    reference: str = typer.Option("", help="Free-text reference."),
    pending: bool = typer.Option(False, help="Place a hold instead of posting."),
    timeout: int | None = typer.Option(None, help="Hold timeout in seconds."),
    as_json: bool = JsonOption,
) -> None:
    """Post a two-posting transfer (or place a hold with --pending)."""
    ledger = _ledger()
    minor = to_minor_units(amount, _asset(ledger, asset))
    outcome = ledger.post_transfer(
        PostTransfer(
            id=transfer_id or str(uuid.uuid4()),
            postings=(
                Posting(debit, Side.DEBIT, minor, asset),
                Posting(credit, Side.CREDIT, minor, asset),
            ),
            reference=reference,
            pending=pending,
            timeout_seconds=timeout,
        )
    )
    if as_json:
        print_json({**transfer_json(outcome.transfer), "replayed": outcome.replayed})
    else:
        note = " (replayed)" if outcome.replayed else ""
        console.print(f"transfer [bold]{outcome.transfer.id}[/] {outcome.transfer.status}{note}")


@app.command("post-hold")
@handled
def post_hold(
    hold_id: str,
    amount: str | None = typer.Option(None, help="Post less than held (major units)."),
) -> None:
    """Post a hold in full or for a smaller amount."""
    ledger = _ledger()
    minor = None
    if amount is not None:
        hold = ledger.transfer(hold_id)
        minor = to_minor_units(amount, _asset(ledger, hold.postings[0].asset))
    t = ledger.post_pending(PostPendingTransfer(hold_id, minor))
    console.print(f"hold [bold]{t.id}[/] posted")


@app.command("void-hold")
@handled
def void_hold(hold_id: str) -> None:
    """Void a hold, releasing what it reserved."""
    _ledger().void_pending(VoidPendingTransfer(hold_id))
    console.print(f"hold [bold]{hold_id}[/] voided")


@app.command("expire-holds")
@handled
def expire_holds(as_json: bool = JsonOption) -> None:
    """Release every hold whose timeout has passed (the worker does this in a loop)."""
    expired = _ledger().expire_holds()
    if as_json:
        print_json([t.id for t in expired])
    else:
        console.print(f"{len(expired)} hold(s) expired")


@app.command("reverse")
@handled
def reverse(
    transfer_id: str,
    reversal_id: str = typer.Option(None, "--id", help="Idempotency id of the reversal."),
    reference: str = typer.Option("", help="Why it is reversed."),
) -> None:
    """Reverse a posted transfer with a new, linked transfer."""
    outcome = _ledger().reverse_transfer(
        ReverseTransfer(reversal_id or str(uuid.uuid4()), transfer_id, reference)
    )
    console.print(f"transfer [bold]{transfer_id}[/] reversed by {outcome.transfer.id}")


@app.command("transfers")
@handled
def list_transfers(
    account_id: str,
    start: str | None = typer.Option(None, "--from", help="ISO time, inclusive."),
    end: str | None = typer.Option(None, "--to", help="ISO time, exclusive."),
    cursor: str | None = typer.Option(None, help="Cursor from the previous page."),
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """Posted transfers that touched an account in a time range."""
    page = _ledger().transfers_for_account(
        account_id, start=_parse_time(start), end=_parse_time(end), cursor=cursor, limit=limit
    )
    if as_json:
        print_json(
            {
                "transfers": [transfer_json(t) for t in page.transfers],
                "next_cursor": page.next_cursor,
            }
        )
        return
    table = Table("id", "effective", "status", "reference", title=f"Transfers of {account_id}")
    for t in page.transfers:
        table.add_row(t.id, t.effective_at.isoformat(), t.status.value, t.reference)
    console.print(table)
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


@app.command("transfer")
@handled
def show_transfer(transfer_id: str, as_json: bool = JsonOption) -> None:
    """Show one transfer."""
    data = transfer_json(_ledger().transfer(transfer_id))
    if as_json:
        print_json(data)
    else:
        console.print(data)


@app.command("import")
@handled
def bulk_import(
    path: Path = typer.Argument(..., exists=True, readable=True, help="JSON lines of transfers."),
    batch_size: int = typer.Option(500, min=1, max=10_000),
    linked: bool = typer.Option(False, help="All-or-nothing per batch instead of per item."),
) -> None:
    """Bulk-import transfers from JSON lines: {"id", "postings": [{account_id, side, amount,
    asset}], "reference"?, "effective_at"?}; amounts are integers of minor units."""
    ledger = _ledger()
    lines = path.read_text().splitlines()
    commands = [_command_from_json(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    posted = rejected = 0
    with Progress(console=err_console) as progress:
        task = progress.add_task("importing", total=len(commands))
        for start in range(0, len(commands), batch_size):
            chunk = commands[start : start + batch_size]
            if linked:
                ledger.post_linked_batch(chunk)
                posted += len(chunk)
            else:
                for result in ledger.post_bulk(chunk):
                    if result.error is None:
                        posted += 1
                    else:
                        rejected += 1
                        err_console.print(
                            f"line {start + result.index + 1}: {result.error.code}: "
                            f"{result.error.message}"
                        )
            progress.advance(task, len(chunk))
    console.print(f"{posted} posted, {rejected} rejected")
    if rejected:
        raise typer.Exit(1)


def _command_from_json(line_no: int, line: str) -> PostTransfer:
    try:
        data = json.loads(line)
        return PostTransfer(
            id=str(data["id"]),
            postings=tuple(
                Posting(p["account_id"], Side(p["side"]), int(p["amount"]), p["asset"])
                for p in data["postings"]
            ),
            effective_at=_parse_time(data.get("effective_at")),
            reference=data.get("reference", ""),
            metadata=data.get("metadata", {}),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidAmount(f"line {line_no} is not a valid transfer: {exc}", line=line_no) from exc


class ExportFormat(StrEnum):
    LEDGER = "ledger"


@app.command("export")
@handled
def export(
    export_format: ExportFormat = typer.Option(
        ExportFormat.LEDGER, "--format", help="ledger: a ledger-cli / hledger journal."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
    include_holds: bool = typer.Option(False, help="Write live holds as pending (!) entries."),
) -> None:
    """Export the ledger as a plain-text double-entry journal another tool can check."""
    engine = bootstrap().engine
    with Progress(console=err_console, transient=True) as progress:
        progress.add_task(f"exporting ({export_format.value})", total=None)
        if output is None:
            summary = export_journal(engine, sys.stdout, include_holds=include_holds)
        else:
            with output.open("w", encoding="utf-8") as out:
                summary = export_journal(engine, out, include_holds=include_holds)
    err_console.print(
        f"{summary.transactions} transactions, {summary.accounts} accounts"
        + (f", {summary.holds} holds" if include_holds else "")
        + (f" written to {output}" if output else "")
    )


@app.command("rebuild")
@handled
def rebuild(
    check: bool = typer.Option(False, "--check", help="Only compare; change nothing."),
    as_json: bool = JsonOption,
) -> None:
    """Replay every event into fresh projections and report any difference from the stored ones."""
    engine = bootstrap().engine
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("replaying events", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = (check_projections if check else repair_projections)(engine, advance)
    summary = {
        "ok": report.ok,
        "events": report.events,
        "accounts": report.accounts,
        "transfers": report.transfers,
        "entries": report.entries,
        "differences": report.differences,
        "repaired": not check and not report.ok,
    }
    if as_json:
        print_json(summary)
    elif report.ok:
        console.print(
            f"[green]projections match[/] {report.events} events "
            f"({report.accounts} accounts, {report.transfers} transfers, {report.entries} entries)"
        )
    else:
        for line in report.differences:
            err_console.print(f"[red]difference[/] {line}")
        if not check:
            console.print("totals and statuses rewritten from the events; missing entries added")
    if not report.ok and check:
        raise typer.Exit(1)
