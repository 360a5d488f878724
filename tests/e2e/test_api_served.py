"""`twinrail serve` as a real process on a free port: first-run credential, token, resources."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_served_api_issues_a_token_to_the_first_run_operator_and_serves_clients(
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = {**os.environ, "TWINRAIL_VAR_DIR": str(tmp_path), "TWINRAIL_DATABASE_URL": ""}
    process = subprocess.Popen(
        [sys.executable, "-c", "from twinrail.cli.serve_cli import app; app()",
         "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=5) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, "server exited early"
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.1)
            assert http.get("/readyz").json()["checks"]["database"] == "ok"
            operator = json.loads((tmp_path / "operator-credential.json").read_text())
            token = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                                    **operator}).json()["access_token"]  # fmt: skip
            staff = {"Authorization": f"Bearer {token}"}
            assert http.get("/v1/clients", headers=staff).status_code == 200
            # the operator may not create clients; the CLI (admin side) does
            assert (
                http.post("/v1/clients", json={"name": "x", "role": "client"},
                          headers={**staff, "Idempotency-Key": "k1"}).status_code == 403
            )  # fmt: skip
            created = subprocess.run(
                [sys.executable, "-c", "from twinrail.cli.serve_cli import app; app()",
                 "create-client", "Acme", "--json"],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            tenant = json.loads(created.stdout)
            tenant_token = http.post("/oauth/token", data={
                "grant_type": "client_credentials", "client_id": tenant["client_id"],
                "client_secret": tenant["client_secret"]}).json()["access_token"]  # fmt: skip
            headers = {"Authorization": f"Bearer {tenant_token}"}
            customer = http.post(
                "/v1/customers",
                json={"kind": "individual", "name": "Ada"},
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            )
            assert customer.status_code == 201, customer.text
            assert customer.headers["X-Request-ID"]
            listed = http.get("/v1/customers", headers=headers).json()["data"]
            assert [c["id"] for c in listed] == [customer.json()["id"]]
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert "first run" in output and operator["client_secret"] in output
