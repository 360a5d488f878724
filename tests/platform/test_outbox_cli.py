"""`twinrail outbox status` and `twinrail outbox relay`, against the configured database."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.platform.builders import post_transfers
from tests.platform.conftest import outbox_event_ids, wait_until
from twinrail.cli import outbox_cli
from twinrail.cli.main import app
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.bus import bus_from_url
from twinrail.settings import get_settings


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Point the settings at the test database and the in-process bus; the env it used."""
    env = {
        "TWINRAIL_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "TWINRAIL_BUS_URL": "inproc://",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["outbox", *args])
    return result.exit_code, result.output


@pytest.mark.usefixtures("configured")
def test_status_reports_the_unpublished_backlog_as_json(ledger: LedgerService, engine: Engine):
    code, output = run("status", "--json")
    assert code == 0, output
    assert json.loads(output) == {"unpublished": 0, "oldest_age_seconds": None}
    post_transfers(ledger, 2)
    code, output = run("status", "--json")
    report = json.loads(output)
    assert report["unpublished"] == len(outbox_event_ids(engine))
    assert report["oldest_age_seconds"] >= 0


@pytest.mark.usefixtures("configured")
def test_relay_once_publishes_everything_waiting_and_exits(ledger: LedgerService, engine: Engine):
    post_transfers(ledger, 2)
    waiting = len(outbox_event_ids(engine))
    code, output = run("relay", "--once", "--batch-size", "2")
    assert code == 0, output
    assert f"published {waiting} message(s)" in output
    assert outbox_event_ids(engine, unpublished_only=True) == []
    code, output = run("status")
    assert "unpublished: 0" in output


def test_an_unreachable_bus_is_reported_in_one_line_with_exit_code_2(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TWINRAIL_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("TWINRAIL_BUS_URL", "nats://127.0.0.1:1")
    monkeypatch.setattr(outbox_cli, "bus_from_url", functools.partial(bus_from_url, timeout=1.0))
    get_settings.cache_clear()
    try:
        code, output = run("relay", "--once")
    finally:
        get_settings.cache_clear()
    assert code == 2
    assert "bus.unavailable" in output


def test_the_relay_loop_runs_until_interrupted(
    configured: dict[str, str], ledger: LedgerService, engine: Engine
):
    post_transfers(ledger, 1)
    relay = subprocess.Popen(
        [sys.executable, "-m", "twinrail.cli.main", "outbox", "relay", "--interval", "0.05"],
        env={**os.environ, **configured},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: outbox_event_ids(engine, unpublished_only=True) == [], timeout=30)
        relay.send_signal(signal.SIGINT)
        output, _ = relay.communicate(timeout=10)
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.communicate()
    assert relay.returncode == 0, output
    assert "relay stopped" in output
