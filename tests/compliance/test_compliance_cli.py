"""`twinrail compliance`: load lists, show their status, screen names, as people and programs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.compliance.conftest import FTM, OFAC
from twinrail.cli.compliance_cli import app
from twinrail.settings import get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TWINRAIL_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_loads_a_list_and_reports_its_status_as_json() -> None:
    loaded = runner.invoke(app, ["lists", "load", "ofac-sdn", str(OFAC), "--json"])
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout)["entities"] == 4
    human = runner.invoke(app, ["lists", "load", "ftm", os.fspath(FTM)])
    assert human.exit_code == 0 and "version 1" in human.stdout
    status = runner.invoke(app, ["lists", "status", "--json"])
    rows = json.loads(status.stdout)
    assert [(r["list"], r["version"], r["status"]) for r in rows] == [
        ("ftm", 1, "active"),
        ("ofac-sdn", 1, "active"),
    ]


def test_screens_a_name_with_birth_date_and_country_as_json() -> None:
    runner.invoke(app, ["lists", "load", "ofac-sdn", str(OFAC)])
    result = runner.invoke(
        app, ["screen", "Дмитрий Карпов", "--dob", "1972-10-07", "--country", "RU", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["matched"] and body["hits"][0]["entity_id"] == "7521"
    assert {"birth_date_match", "country_match"} <= {f["name"] for f in body["hits"][0]["features"]}
    table = runner.invoke(
        app, ["screen", "Dmitri Karpov", "--wallet", "0x7f367cc41522ce07553e823bf3be79a889debe1b"]
    )
    assert table.exit_code == 0 and "KARPOV" in table.stdout


def test_bad_files_and_bad_queries_exit_1_with_the_error_code(tmp_path: Path) -> None:
    broken = tmp_path / "sdn.xml"
    broken.write_text(OFAC.read_text()[:700])
    result = runner.invoke(app, ["lists", "load", "ofac-sdn", str(broken)])
    assert result.exit_code == 1 and "compliance.list.malformed" in result.output
    result = runner.invoke(app, ["screen", "Ivan", "--dob", "1800-01-01"])
    assert result.exit_code == 1 and "compliance.screening.invalid_query" in result.output
