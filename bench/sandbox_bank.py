"""AIS `transactions` throughput of the sandbox bank over mutual TLS, and its latency p50/p99.

Starts a real bank process (its own QTSP, database and port), authorises a consent through the
embedded SCA, then has several keep-alive clients read transaction pages with the PSU present
(not counted against frequencyPerDay). Prints one JSON line. With `--profile strict` (or any
profile that requires message signatures) every request is signed with a QSealC, so the line
shows what signature checking costs.

    .venv/bin/python bench/sandbox_bank.py [--seconds 5] [--clients 4] [--profile default]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from twinrail.openbanking.domain.psd2 import OrganizationIdentifier, Psd2Role
from twinrail.openbanking.service.request_signer import RequestSigner
from twinrail.openbanking.service.sandbox_qtsp import SandboxQtsp
from twinrail.sandbox.bank.profile import load_profile


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _headers(**extra: str) -> dict[str, str]:
    return {"X-Request-ID": str(uuid.uuid4()), "PSU-IP-Address": "192.0.2.1", **extra}


def _client(base: str, context: ssl.SSLContext, auth: httpx.Auth | None = None) -> httpx.Client:
    return httpx.Client(base_url=base, verify=context, timeout=10, auth=auth)


def _wait_until_up(client: httpx.Client, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("sandbox bank exited during start-up")
        try:
            client.get("/v1/accounts", headers=_headers())
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("sandbox bank did not start")


def _consent(client: httpx.Client) -> tuple[str, str]:
    access = {"allPsd2": "allAccounts"}
    body = {
        "access": access,
        "recurringIndicator": True,
        "validUntil": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        "frequencyPerDay": 4,
        "combinedServiceIndicator": False,
    }
    # Embedded SCA whatever the profile's default approach (the bench has no browser).
    embedded = {"PSU-ID": "alice", "TPP-Redirect-Preferred": "false"}
    embedded["TPP-Decoupled-Preferred"] = "false"
    consent_id = client.post("/v1/consents", json=body, headers=_headers(**embedded))
    cid = consent_id.json()["consentId"]
    start = client.post(f"/v1/consents/{cid}/authorisations", headers=_headers(**embedded))
    link = start.json()["_links"]["updatePsuAuthentication"]["href"]
    client.put(
        link,
        json={"psuData": {"password": "alice-sandbox"}},
        headers=_headers(**{"PSU-ID": "alice"}),
    )
    client.put(link, json={"scaAuthenticationData": "123456"}, headers=_headers())
    accounts = client.get("/v1/accounts", headers=_headers(**{"Consent-ID": cid})).json()[
        "accounts"
    ]
    current = next(a for a in accounts if a["cashAccountType"] == "CACC")
    return cid, current["resourceId"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--profile", default="default", help="bank profile (profiles/*.yaml)")
    args = parser.parse_args()
    signed = load_profile(args.profile)[0].signatures_required
    work = Path(tempfile.mkdtemp(prefix="bench-bank-"))
    qtsp = SandboxQtsp(work / "pki")
    qtsp.init()
    qwac = qtsp.issue_qwac(
        "bench", organization="Bench TPP", roles=[Psd2Role.PSP_AI],
        organization_id=OrganizationIdentifier("DE", "BAFIN", "BENCH"), nca_name="BaFin",
    )  # fmt: skip
    seal = qtsp.issue_qsealc(
        "bench-seal", organization="Bench TPP", roles=[Psd2Role.PSP_AI],
        organization_id=OrganizationIdentifier("DE", "BAFIN", "BENCH"), nca_name="BaFin",
    )  # fmt: skip
    auth = RequestSigner.from_issued(seal).auth() if signed else None
    context = ssl.create_default_context(cafile=str(qtsp.ca_bundle_path))
    context.load_cert_chain(str(qwac.cert_path), str(qwac.key_path))
    port = _free_port()
    code = "from twinrail.cli.sandbox_cli import app; app(prog_name='sandbox-bank')"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--profile", args.profile, "--port", str(port),
         "--pki-dir", str(qtsp.directory)],
        env={**os.environ, "TWINRAIL_SANDBOX_BANK_DIR": str(work / "bank")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"https://127.0.0.1:{port}"
    try:
        with _client(base, context, auth) as setup:
            _wait_until_up(setup, process)
            consent_id, account_id = _consent(setup)
        url = f"/v1/accounts/{account_id}/transactions?bookingStatus=both&itemsPerPage=50"
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def worker() -> None:
            mine: list[float] = []
            bad = 0
            with _client(base, context, auth) as client:
                while time.monotonic() < stop_at:
                    began = time.perf_counter()
                    response = client.get(url, headers=_headers(**{"Consent-ID": consent_id}))
                    mine.append(time.perf_counter() - began)
                    bad += response.status_code != 200
            with lock:
                latencies.extend(mine)
                errors[0] += bad

        threads = [threading.Thread(target=worker) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        process.terminate()
        process.wait(timeout=10)
    latencies.sort()
    count = len(latencies)
    print(
        json.dumps(
            {
                "bench": "sandbox_bank_ais_transactions",
                "profile": args.profile,
                "signed": signed,
                "clients": args.clients,
                "seconds": args.seconds,
                "requests": count,
                "errors": errors[0],
                "requests_per_s": round(count / args.seconds, 1),
                "p50_ms": round(latencies[count // 2] * 1000, 2) if count else None,
                "p99_ms": round(latencies[min(count - 1, int(count * 0.99))] * 1000, 2)
                if count
                else None,
            }
        )
    )


if __name__ == "__main__":
    main()
