"""`twinrail sandbox-bank` resets the bank's data and runs the bank as its own process."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time

import httpx
from typer.testing import CliRunner

from tests.openbanking.pki_builders import issue_tpp, new_qtsp
from tests.sandbox.conftest import headers
from tests.sandbox.spec_validation import validate_exchange
from twinrail.cli.sandbox_cli import app
from twinrail.platform.db import create_db_engine
from twinrail.sandbox.bank.service.bank_service import BankService


def test_seed_resets_the_bank_to_the_seeded_customers(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINRAIL_SANDBOX_BANK_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["--profile", "cli", "seed"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["profile"] == "cli" and summary["accounts"] == 4
    assert summary["logins"]["alice"] == {"password": "alice-sandbox", "otp": "123456"}
    service = BankService(create_db_engine(f"sqlite:///{tmp_path}/cli.db"))
    service.create_consent("PSDDE-BAFIN-1", None, {
        "access": {"allPsd2": "allAccounts"}, "recurringIndicator": True,
        "validUntil": "2099-01-01", "frequencyPerDay": 4,
    })  # fmt: skip
    assert CliRunner().invoke(app, ["--profile", "cli", "seed"]).exit_code == 0
    with service.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM consents").scalar() == 0


def test_a_bad_profile_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINRAIL_SANDBOX_BANK_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["--profile", "../etc", "seed"])
    assert result.exit_code != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_bank_runs_as_its_own_process_with_mutual_tls(tmp_path):
    qtsp = new_qtsp(tmp_path / "pki")
    qwac = issue_tpp(qtsp, "proc-tpp")
    port = _free_port()
    env = {**os.environ, "TWINRAIL_SANDBOX_BANK_DIR": str(tmp_path / "bank")}
    code = "from twinrail.cli.sandbox_cli import app; app(prog_name='sandbox-bank')"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--profile", "proc", "--port", str(port),
         "--pki-dir", str(qtsp.directory)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        context = ssl.create_default_context(cafile=str(qtsp.ca_bundle_path))
        context.load_cert_chain(str(qwac.cert_path), str(qwac.key_path))
        with httpx.Client(
            base_url=f"https://127.0.0.1:{port}", verify=context, timeout=5,
            event_hooks={"response": [validate_exchange]},
        ) as client:  # fmt: skip
            deadline = time.monotonic() + 30
            while True:
                try:
                    response = client.get("/v1/accounts", headers=headers())
                    break
                except httpx.ConnectError:
                    assert process.poll() is None, process.stdout.read() if process.stdout else ""
                    assert time.monotonic() < deadline, "bank did not start"
                    time.sleep(0.2)
        assert response.status_code == 400  # reached the app: only the Consent-ID is missing
        assert response.json()["tppMessages"][0]["code"] == "FORMAT_ERROR"
        assert (tmp_path / "bank" / "proc.db").exists()
    finally:
        process.terminate()
        process.wait(timeout=10)
