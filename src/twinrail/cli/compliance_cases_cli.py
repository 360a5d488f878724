"""`twinrail compliance cases ...` and `twinrail compliance kyc ...`: the review queue, one case
(with its report draft), and the KYC document-expiry sweep."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from twinrail.cli.output import JsonOption, console, handled_errors, print_json
from twinrail.compliance.domain.cases import Case
from twinrail.compliance.domain.errors import ComplianceError
from twinrail.compliance.service.case_report import case_report, report_markdown
from twinrail.compliance.service.wiring import ComplianceServices, build_compliance_services
from twinrail.platform.db import create_db_engine
from twinrail.platform.migrate import upgrade
from twinrail.settings import get_settings

__all__ = ["cases_app", "kyc_app"]

cases_app = typer.Typer(help="Review cases: the queue and one case.", no_args_is_help=True)
kyc_app = typer.Typer(help="KYC verification: expire lapsed documents.", no_args_is_help=True)


@contextmanager
def _services() -> Iterator[ComplianceServices]:
    engine: Engine = create_db_engine(get_settings().resolved_database_url())
    try:
        upgrade(engine)
        yield build_compliance_services(engine)
    finally:
        engine.dispose()


_handled = handled_errors(ComplianceError, show_context=False)
"""Known compliance errors become one readable line and exit 1 (2 when retryable)."""


def _summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.case_id,
        "customer_id": case.customer_id,
        "status": case.status.value,
        "assignee": case.assignee,
        "opened_at": case.opened_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }


@cases_app.command("list")
@_handled
def list_command(
    status: str = typer.Option("open", "--status", help="open, closed or all."),
    assignee: str = typer.Option("", "--assignee", help="Only this analyst's cases."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    json_output: bool = JsonOption,
) -> None:
    """The review queue, oldest first."""
    with _services() as services:
        found = services.cases.cases(
            status=None if status == "all" else status, assignee=assignee or None, limit=limit
        )
    if json_output:
        print_json([_summary(c) for c in found])
        return
    if not found:
        console.print("no cases")
        return
    table = Table("case", "customer", "status", "assignee", "opened", "updated")
    for case in found:
        table.add_row(
            case.case_id, escape(case.customer_id), case.status.value, escape(case.assignee or "-"),
            case.opened_at.isoformat(timespec="seconds"),
            case.updated_at.isoformat(timespec="seconds"),
        )  # fmt: skip
    console.print(table)


@cases_app.command("show")
@_handled
def show_command(
    case_id: str = typer.Argument(..., help="The case id."),
    markdown: bool = typer.Option(False, "--markdown", help="The report draft as Markdown."),
    json_output: bool = JsonOption,
) -> None:
    """One case: its alerts, notes, decisions and timeline (the report draft)."""
    with _services() as services:
        report = case_report(services.engine, case_id)
    if json_output:
        print_json(report)
        return
    if markdown:
        console.print(report_markdown(report), markup=False, highlight=False)
        return
    console.print(f"[bold]{report['case_id']}[/] {report['status']} — customer "
                  f"{escape(report['subject']['customer_id'])}")  # fmt: skip
    table = Table("at", "what", "by")
    for event in report["timeline"]:
        table.add_row(event["at"], escape(event["what"]), escape(event["by"] or ""))
    console.print(table)


@kyc_app.command("expire")
@_handled
def expire_command(json_output: bool = JsonOption) -> None:
    """Expire approved verifications whose documents lapsed (KYC `expired`, tier 0)."""
    with _services() as services:
        lapsed = services.verifications.expire_documents()
    if json_output:
        print_json([v.to_dict() for v in lapsed])
        return
    console.print(f"{len(lapsed)} verification(s) expired")
