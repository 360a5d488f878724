"""`twinrail compliance ...`: load watch lists, show their status, screen a name."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Engine

from twinrail.cli.output import JsonOption, console, err_console, print_json
from twinrail.compliance.domain.errors import ComplianceError
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.platform.db import create_db_engine
from twinrail.platform.migrate import upgrade
from twinrail.settings import get_settings

__all__ = ["app"]

app = typer.Typer(help="Sanctions and watch-list screening.", no_args_is_help=True)
lists_app = typer.Typer(
    help="Watch lists: load a published file, show versions.", no_args_is_help=True
)
app.add_typer(lists_app, name="lists")


@contextmanager
def _service() -> Iterator[ScreeningService]:
    engine: Engine = create_db_engine(get_settings().resolved_database_url())
    try:
        upgrade(engine)
        yield ScreeningService(engine, actor="cli")
    finally:
        engine.dispose()


def _handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Known compliance errors become one readable line and exit 1 (2 when retryable)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ComplianceError as exc:
            err_console.print(f"[bold red]error[/] [dim]{exc.code}[/]: {escape(exc.message)}")
            for key, value in exc.context.items():
                err_console.print(f"  {key}: {escape(str(value))}")
            raise typer.Exit(2 if exc.retryable else 1) from None

    return wrapper


@lists_app.command("load")
@_handled
def load_command(
    fmt: str = typer.Argument(..., metavar="FORMAT", help="ofac-sdn, eu-fsf, un-sc or ftm."),
    path: str = typer.Argument(..., help="The published list file."),
    name: str = typer.Option("", "--name", help="List name (default: the format)."),
    json_output: bool = JsonOption,
) -> None:
    """Load a list file as the next version of its list and re-screen known parties."""
    with _service() as service:
        if json_output:
            report = service.load_list(fmt, path, list_name=name or None)
        else:
            columns = (TextColumn("reading"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("read", total=None)
                report = service.load_list(
                    fmt,
                    path,
                    list_name=name or None,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
    if json_output:
        print_json(report.to_dict())
        return
    v = report.version
    console.print(
        f"[bold]{escape(v.list_name)}[/] version {v.version}: {v.entity_count} entities "
        f"({v.changed_count} new or changed, {v.removed_count} removed); "
        f"{len(report.new_hits)} new hits on screened parties"
    )
    for party_id, hit in report.new_hits:
        console.print(f"  {escape(party_id)} → {escape(hit.entity_name)} ({hit.score:.2f})")


@lists_app.command("status")
@_handled
def status_command(json_output: bool = JsonOption) -> None:
    """Every loaded version of every list; one per list is active."""
    with _service() as service:
        versions = service.list_status()
    if json_output:
        print_json([v.to_dict() for v in versions])
        return
    table = Table("list", "version", "status", "entities", "changed", "removed", "loaded at")
    for v in versions:
        table.add_row(
            v.list_name, str(v.version), v.status, str(v.entity_count), str(v.changed_count),
            str(v.removed_count), v.loaded_at.isoformat(timespec="seconds"),
        )  # fmt: skip
    console.print(table)


@app.command("screen")
@_handled
def screen_command(
    name: str = typer.Argument("", help="The name to screen, in any script."),
    dob: str = typer.Option("", "--dob", help="Birth date, YYYY-MM-DD."),
    country: str = typer.Option("", "--country", help="Country code or name."),
    iban: list[str] = typer.Option([], "--iban", help="An IBAN (repeatable)."),
    bic: list[str] = typer.Option([], "--bic", help="A BIC (repeatable)."),
    wallet: list[str] = typer.Option([], "--wallet", help="A wallet address (repeatable)."),
    party_id: str = typer.Option("", "--party-id", help="Record the party for re-screening."),
    json_output: bool = JsonOption,
) -> None:
    """Screen a name and identifiers against every active list."""
    identifiers = [("iban", v) for v in iban] + [("bic", v) for v in bic]
    identifiers += [("wallet", v) for v in wallet]
    with _service() as service:
        result = service.screen_party(
            name, dob or None, country or None, identifiers, party_id=party_id or None
        )
    if json_output:
        print_json(result.to_dict())
        return
    if not result.hits:
        console.print("no hits")
        return
    table = Table("score", "list", "entity", "matched name", "why")
    for hit in result.hits:
        why = ", ".join(f"{f.name}({f.detail})" for f in hit.features)
        table.add_row(
            f"{hit.score:.2f}", hit.list_name, escape(f"{hit.entity_name} [{hit.entity_id}]"),
            escape(hit.matched_name), escape(why),
        )  # fmt: skip
    console.print(table)
