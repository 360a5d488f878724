"""`twinrail compliance ...`: load watch lists, show their status, screen a name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Engine

from twinrail.cli.output import JsonOption, console, handled_errors, print_json
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


_handled = handled_errors(ComplianceError)
"""Known compliance errors become one readable line and exit 1 (2 when retryable)."""


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


# --- rules: the rule set in force, checking a candidate file, shadow-mode comparison ---------

rules_app = typer.Typer(
    help="Monitoring rules: show the rule set, check a file, compare a shadow set.",
    no_args_is_help=True,
)
app.add_typer(rules_app, name="rules")


@rules_app.command("show")
@_handled
def rules_show_command(
    path: str = typer.Option("", "--file", help="A rule-set YAML file (default: the live one)."),
    json_output: bool = JsonOption,
) -> None:
    """Show a rule set: its version and every rule with kind, severity and outcome."""
    from twinrail.compliance.rules import default_rule_set, read_rule_set
    from twinrail.compliance.service.settings import ComplianceSettings

    configured = path or ComplianceSettings().rule_set_path
    rules = read_rule_set(configured) if configured else default_rule_set()
    rows = [
        {"id": r.id, "kind": type(r.params).__name__, "severity": r.severity.value,
         "outcome": r.outcome.value, "applies_to": sorted(r.applies_to),
         "description": r.description}
        for r in rules.rules
    ]  # fmt: skip
    if json_output:
        print_json({"version": rules.version, "rules": rows, "wallet_tags": len(rules.wallet_tags),
                    "lists": {k: sorted(v) for k, v in rules.lists.items()}})  # fmt: skip
        return
    console.print(f"[bold]rule set {escape(rules.version)}[/] ({len(rows)} rules)")
    table = Table("id", "kind", "severity", "outcome", "applies to", "description")
    for rule in rules.rules:
        table.add_row(
            rule.id, type(rule.params).__name__, rule.severity.value, rule.outcome.value,
            ", ".join(sorted(rule.applies_to)) or "all", escape(rule.description),
        )  # fmt: skip
    console.print(table)


@rules_app.command("check")
@_handled
def rules_check_command(path: str = typer.Argument(..., help="A rule-set YAML file.")) -> None:
    """Validate a rule-set file; every problem is listed with where it is (exit 1)."""
    from twinrail.compliance.rules import read_rule_set

    rules = read_rule_set(path)
    console.print(f"ok: rule set {escape(rules.version)} with {len(rules.rules)} rules")


@rules_app.command("shadow-report")
@_handled
def rules_shadow_report_command(
    version: str = typer.Option("", "--version", help="Only this shadow rule-set version."),
    differences: int = typer.Option(0, "--differences", help="Also list the N latest differing."),
    json_output: bool = JsonOption,
) -> None:
    """How often a shadow rule set would have decided differently from the live one."""
    from twinrail.compliance.adapters.pipeline_port import build_engine_compliance

    engine: Engine = create_db_engine(get_settings().resolved_database_url())
    try:
        upgrade(engine)
        decisions = build_engine_compliance(engine).decisions
        report = decisions.shadow_report(version or None)
        listed = {
            c.rule_set_version: decisions.shadow_differences(c.rule_set_version, differences)
            for c in report
            if differences > 0
        }
    finally:
        engine.dispose()
    if json_output:
        shown = {v: [e.to_dict() for e in found] for v, found in listed.items()}
        print_json(
            [{**c.to_dict(), "differences": shown.get(c.rule_set_version, [])} for c in report]
        )
        return
    if not report:
        console.print("no shadow evaluations recorded")
        return
    for c in report:
        moves = ", ".join(f"{k}: {n}" for k, n in c.transitions.items())
        console.print(
            f"[bold]{escape(c.rule_set_version)}[/]: {c.differing} of {c.total} decisions would "
            f"differ ({escape(moves)})"
        )
        for e in listed.get(c.rule_set_version, []):
            console.print(f"  {e.order_id}: {e.live_outcome} → {e.outcome} ({', '.join(e.fired)})")


# --- cases and KYC (issue 7: review cases, KYC provider) -------------------------------------
from twinrail.cli.compliance_cases_cli import cases_app, kyc_app  # noqa: E402

app.add_typer(cases_app, name="cases")
app.add_typer(kyc_app, name="kyc")
