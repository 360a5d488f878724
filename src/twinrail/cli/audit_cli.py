"""`twinrail audit ...`: seal and verify the hash-chained audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Engine

from twinrail.audit.service.sealing import seal_all
from twinrail.audit.service.verification import VerificationReport, verify
from twinrail.cli.output import JsonOption, console, print_json
from twinrail.platform.db import create_db_engine
from twinrail.platform.migrate import upgrade
from twinrail.settings import get_settings

__all__ = ["app"]

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)

_PROGRESS_FROM = 50_000  # sealed entries; below this verify is over before a bar is worth drawing


@contextmanager
def _engine() -> Iterator[Engine]:
    engine = create_db_engine(get_settings().resolved_database_url())
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@app.command("seal")
def seal_command(
    json_output: bool = JsonOption,
    batch_size: int = typer.Option(10_000, "--batch-size", min=1, help="Entries per transaction."),
) -> None:
    """Chain every committed, unsealed entry onto the end of the audit chain."""
    with _engine() as engine:
        sealed = seal_all(engine, batch_size)
    if json_output:
        print_json({"sealed": sealed})
    else:
        console.print(f"sealed [bold]{_entries(sealed)}[/]")


@app.command("verify")
def verify_command(json_output: bool = JsonOption) -> None:
    """Check the whole chain; exit 1 naming the first broken position if it does not hold."""
    with _engine() as engine:
        if json_output or not console.is_terminal:
            report = verify(engine)
        else:
            report = _verify_with_progress(engine)
    if json_output:
        print_json(report.to_dict())
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _verify_with_progress(engine: Engine) -> VerificationReport:
    columns = (
        TextColumn("verifying audit chain"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("verify", total=None, visible=False)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, visible=total >= _PROGRESS_FROM)

        return verify(engine, on_progress=advance)


def _print_report(report: VerificationReport) -> None:
    if report.ok:
        tail = (
            f"tail at seal_seq {report.tail_seal_seq} ({report.tail_hash})"
            if report.tail_seal_seq is not None
            else "nothing sealed yet"
        )
        console.print(
            f"[bold green]audit chain intact[/]: {_entries(report.checked)} verified, {tail}",
            soft_wrap=True,
        )
    else:
        console.print(
            f"[bold red]audit chain broken at seal_seq {report.first_broken_seal_seq} "
            f"(entry id {report.first_broken_entry_id}, {report.break_kind})[/]: "
            f"[red]{escape(report.reason or '')}[/]",
            soft_wrap=True,
        )
        console.print(f"  {_entries(report.checked)} before it verified", soft_wrap=True)
    if report.unsealed:
        since = report.oldest_unsealed_at.isoformat() if report.oldest_unsealed_at else "?"
        console.print(
            f"[yellow]{_entries(report.unsealed)} not sealed yet[/] (oldest from {since}); "
            "`twinrail audit seal` chains them",
            soft_wrap=True,
        )
    else:
        console.print("no unsealed entries", soft_wrap=True)


def _entries(count: int) -> str:
    return f"{count:,} {'entry' if count == 1 else 'entries'}"
