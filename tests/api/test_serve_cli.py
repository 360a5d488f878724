"""`twinrail api ...` commands and the first-run operator credential."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twinrail.api.service.credentials import CredentialService
from twinrail.api.service.first_run import OPERATOR_CREDENTIAL_FILE, ensure_operator_credential
from twinrail.cli.serve_cli import app
from twinrail.platform.db import create_db_engine
from twinrail.platform.migrate import upgrade
from twinrail.settings import get_settings


@pytest.fixture(autouse=True)
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TWINRAIL_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TWINRAIL_DATABASE_URL", "")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_clients_and_api_keys_are_created_and_revoked_from_the_command_line() -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["create-client", "Acme Pay", "--role", "client", "--json"])
    assert created.exit_code == 0, created.output
    client = json.loads(created.output)
    assert client["role"] == "client" and client["client_secret"]
    listed = runner.invoke(app, ["list-clients", "--json"])
    assert client["client_secret"] not in listed.output
    assert client["client_id"] in listed.output
    key = runner.invoke(app, ["create-api-key", client["client_id"], "--json"])
    assert key.exit_code == 0, key.output
    key_id = json.loads(key.output)["id"]
    assert runner.invoke(app, ["revoke-api-key", key_id]).exit_code == 0
    unknown = runner.invoke(app, ["create-api-key", "cli_nobody"])
    assert unknown.exit_code == 1 and "api.not_found" in unknown.output
    assert runner.invoke(app, ["rotate-signing-key"]).exit_code == 0


def test_the_first_run_creates_one_operator_credential_in_a_private_file(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/db.sqlite")
    upgrade(engine)
    credentials = CredentialService(engine)
    issued = ensure_operator_credential(credentials, tmp_path)
    assert issued is not None and issued.client.role.value == "operator"
    path = tmp_path / OPERATOR_CREDENTIAL_FILE
    assert json.loads(path.read_text())["client_secret"] == issued.client_secret
    assert os.stat(path).st_mode & 0o077 == 0
    assert credentials.authenticate_client(issued.client.id, issued.client_secret)
    assert ensure_operator_credential(credentials, tmp_path) is None
    engine.dispose()
