"""`twinrail audit seal` and `twinrail audit verify` on the configured (temporary) database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.audit.trail import append_entries, entry_at, tamper_delete, tamper_update
from twinrail.cli.main import app
from twinrail.platform.db import create_db_engine
from twinrail.platform.migrate import upgrade
from twinrail.settings import get_settings

runner = CliRunner()


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A temporary SQLite database that the CLI's settings point at, with four entries."""
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("TWINRAIL_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = create_db_engine(url)
    upgrade(engine)
    append_entries(engine, 4)
    yield engine
    engine.dispose()
    get_settings.cache_clear()  # the next test must not inherit this database


def test_seal_chains_the_pending_entries_and_says_how_many(configured: Engine):
    result = runner.invoke(app, ["audit", "seal"])
    assert result.exit_code == 0, result.output
    assert "sealed 4 entries" in result.output
    assert entry_at(configured, 4).entry_hash is not None
    again = runner.invoke(app, ["audit", "seal", "--json"])
    assert json.loads(again.stdout) == {"sealed": 0}


def test_verify_on_an_intact_trail_exits_zero_and_shows_unsealed_entries(configured: Engine):
    runner.invoke(app, ["audit", "seal"])
    append_entries(configured, 2)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit chain intact: 4 entries verified, tail at seal_seq 4" in result.output
    assert "2 entries not sealed yet" in result.output


def test_verify_on_a_tampered_trail_exits_one_naming_the_first_broken_position(
    configured: Engine,
):
    runner.invoke(app, ["audit", "seal"])
    victim = entry_at(configured, 2)
    tamper_update(configured, 2, details={"index": 42})
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert (
        f"audit chain broken at seal_seq 2 (entry id {victim.id}, altered): "
        f"entry {victim.id} no longer matches its hash" in result.output
    )
    assert "1 entry before it verified" in result.output


def test_verify_json_reports_a_deleted_entry_with_exit_code_one(configured: Engine):
    runner.invoke(app, ["audit", "seal"])
    after = entry_at(configured, 4)
    tamper_delete(configured, 3)
    result = runner.invoke(app, ["audit", "verify", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["first_broken_seal_seq"] == 3
    assert report["first_broken_entry_id"] == after.id
    assert report["break_kind"] == "missing"
    assert (report["sealed"], report["unsealed"]) == (3, 0)
