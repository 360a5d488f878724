"""`twinrail compliance cases list|show` and `kyc expire`, run as a person or a program would."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twinrail.cli.compliance_cli import app
from twinrail.compliance.domain.cases import Alert, AlertKind, Severity
from twinrail.compliance.service.cases_service import CaseService
from twinrail.platform.db import create_db_engine
from twinrail.platform.migrate import upgrade
from twinrail.settings import get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def case_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("TWINRAIL_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = create_db_engine(url)
    upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    alert = Alert(AlertKind.DECISION, "dec_1", Severity.HIGH, {"outcome": "block"},
                  "compliance-engine", now, "po_1", "cli_A", "block")  # fmt: skip
    created = CaseService(engine).raise_alert("cus_cli", alert)
    engine.dispose()
    yield created
    get_settings.cache_clear()


def test_lists_the_open_cases_as_json_and_as_a_table(case_id: str) -> None:
    listed = runner.invoke(app, ["cases", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(c["id"], c["customer_id"], c["status"]) for c in json.loads(listed.stdout)] == [
        (case_id, "cus_cli", "open")
    ]
    human = runner.invoke(app, ["cases", "list"])
    assert human.exit_code == 0 and "cus_cli" in human.stdout
    closed = runner.invoke(app, ["cases", "list", "--status", "closed", "--json"])
    assert json.loads(closed.stdout) == []


def test_shows_a_case_and_its_report_draft(case_id: str) -> None:
    shown = runner.invoke(app, ["cases", "show", case_id, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["subject"]["customer_id"] == "cus_cli"
    markdown = runner.invoke(app, ["cases", "show", case_id, "--markdown"])
    assert markdown.exit_code == 0 and "# Suspicious activity report draft" in markdown.stdout


def test_an_unknown_case_is_one_readable_error() -> None:
    missing = runner.invoke(app, ["cases", "show", "case_missing"])
    assert missing.exit_code == 1
    assert "compliance.case.not_found" in missing.output


def test_the_expiry_sweep_reports_what_it_expired() -> None:
    swept = runner.invoke(app, ["kyc", "expire", "--json"])
    assert swept.exit_code == 0 and json.loads(swept.stdout) == []
