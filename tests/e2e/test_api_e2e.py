"""End to end over real processes: `twinrail serve` (uvicorn) on a free port and a worker, on
PostgreSQL and NATS JetStream. A client registers, opens customers and accounts, is funded
through the ledger CLI, moves money, and receives Standard Webhooks on a local receiver that
verifies them with the `standardwebhooks` library; with the receiver down the delivery log shows
the retries, and a replay through the API arrives once it is back."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.conftest import NATS_URL, POSTGRES_URL, require_service
from twinrail.platform.bus import JetStreamBus
from twinrail.platform.db import create_db_engine, normalise_url
from twinrail.platform.migrate import upgrade

_CLI = [sys.executable, "-m", "twinrail.cli.main"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@dataclass
class Receiver:
    """A webhook receiver on a fixed loopback port that verifies every request it gets."""

    port: int
    secret: str = ""
    verified: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(body, headers)
                    receiver.verified.append({"id": headers["webhook-id"], **json.loads(body)})
                    self.send_response(204)
                except WebhookVerificationError:
                    receiver.rejected += 1
                    self.send_response(400)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def database_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own, dropped afterwards."""
    require_service(POSTGRES_URL, "PostgreSQL")
    name = f"twinrail_e2e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{normalise_url(POSTGRES_URL).rsplit('/', 1)[0]}/{name}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def stream() -> Iterator[tuple[str, str]]:
    """A JetStream stream and subject prefix of this test's own, deleted afterwards."""
    require_service(NATS_URL, "NATS")
    token = uuid.uuid4().hex[:10]
    name, prefix = f"TWINRAIL_E2E_{token}", f"twinrail-e2e-{token}"
    yield name, prefix
    bus = JetStreamBus(NATS_URL, name, subject_prefix=prefix)
    try:
        bus.delete_stream()
    finally:
        bus.close()


class Processes:
    """Child processes, terminated (then killed) at the end; their output kept for failures."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.started.append((process, log))
        return process

    def stop(self) -> None:
        for process, _ in self.started:
            process.terminate()
        for process, _ in self.started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for _, log in self.started)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINRAIL_")}
    env.update({
        "TWINRAIL_VAR_DIR": str(tmp_path / "var"),
        "TWINRAIL_DATABASE_URL": database_url,
        "TWINRAIL_BUS_URL": NATS_URL,
        "TWINRAIL_NOTIFY_SECRET_KEY": os.environ["TWINRAIL_NOTIFY_SECRET_KEY"],
        # the receiver is on loopback, which the SSRF guard refuses unless told otherwise
        "TWINRAIL_NOTIFY_ALLOW_PRIVATE_NETWORKS": "true",
        "TWINRAIL_NOTIFY_RETRY_DELAYS_SECONDS": "[0.3, 0.3, 0.3]",
        "TWINRAIL_NOTIFY_RETRY_JITTER": "0",
        "TWINRAIL_CRYPTO_CHAINS": "[]",
        "TWINRAIL_LOG_FORMAT": "json",
    })  # fmt: skip
    return env


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*_CLI, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_money_moves_over_http_and_signed_webhooks_arrive_retry_and_replay(
    tmp_path: Path, database_url: str, stream: tuple[str, str], processes: Processes
) -> None:
    env = _env(tmp_path, database_url)
    port = _free_port()
    receiver = Receiver(_free_port())
    processes.start("api", [*_CLI, "serve", "--port", str(port)], env)
    worker_script = str(Path(__file__).with_name("worker_on_stream.py"))
    processes.start("worker", [sys.executable, worker_script, *stream], env)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        _wait_for(ready, "the API to be ready", timeout=60)
        assert httpx.get(f"{base}/readyz").json()["checks"] == {"database": "ok", "bus": "ok"}
        _scenario(env, base, receiver)
    except AssertionError as exc:  # with what the server and the worker said
        raise AssertionError(f"{exc}\n{processes.output()}") from exc
    finally:
        receiver.stop()


def _scenario(env: dict[str, str], base: str, receiver: Receiver) -> None:
    tenant = json.loads(_cli(env, "api", "create-client", "Acme Payments", "--json"))
    http = httpx.Client(base_url=base, timeout=10)
    token = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                            "client_id": tenant["client_id"],
                                            "client_secret": tenant["client_secret"]})  # fmt: skip
    assert token.status_code == 200, token.text
    http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def post(path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        answer = http.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert answer.status_code == status, answer.text
        found: dict[str, Any] = answer.json()
        return found

    # the platform's side: an asset and a funding account (what a bank deposit would credit)
    _cli(env, "ledger", "define-asset", "EUR", "2")
    _cli(env, "ledger", "open-account", "funding-eur", "--asset", "EUR", "--code", "1000",
         "--name", "funding", "--side", "debit")  # fmt: skip

    endpoint = post("/v1/webhook-endpoints",
                    {"url": receiver.url, "event_types": ["payment_order.completed"]})  # fmt: skip
    receiver.secret = endpoint["secret"]
    receiver.start()

    alice = post("/v1/customers", {"kind": "individual", "name": "Alice Example"})
    bob = post("/v1/customers", {"kind": "individual", "name": "Bob Example"})
    alice_eur = post("/v1/accounts", {"customer_id": alice["id"], "asset": "EUR"})
    bob_eur = post("/v1/accounts", {"customer_id": bob["id"], "asset": "EUR"})
    ledger_accounts = json.loads(_cli(env, "ledger", "accounts", "--json"))
    (alice_ledger,) = [a["id"] for a in ledger_accounts if alice_eur["id"] in a["name"]]
    _cli(env, "ledger", "post", "--debit", "funding-eur", "--credit", alice_ledger,
         "--amount", "100.00", "--asset", "EUR")  # fmt: skip

    def transfer(amount: str) -> dict[str, Any]:
        return post("/v1/payment-orders", {"type": "internal_transfer", "amount": amount,
                    "asset": "EUR", "source_account_id": alice_eur["id"],
                    "destination_account_id": bob_eur["id"]})  # fmt: skip

    first = transfer("2500")
    assert first["state"] == "completed"
    balance = http.get(f"/v1/accounts/{bob_eur['id']}/balance").json()
    assert (balance["posted"], balance["available"]) == ("2500", "2500")
    assert http.get(f"/v1/accounts/{alice_eur['id']}/balance").json()["available"] == "7500"

    # the worker relays the order's event over JetStream; the webhook arrives, signed
    arrived = _wait_for(lambda: receiver.verified, "the first webhook")
    assert arrived[0]["type"] == "payment_order.completed"
    assert first["id"] in json.dumps(arrived[0]["data"])
    assert receiver.rejected == 0

    # receiver down: the next order's delivery is retried, then dead-lettered
    receiver.stop()
    second = transfer("1000")
    deliveries = f"/v1/webhook-endpoints/{endpoint['id']}/deliveries"

    def dead_delivery() -> dict[str, Any] | None:
        for delivery in http.get(deliveries).json()["data"]:
            if second["id"] in json.dumps(delivery["payload"]) and delivery["state"] == "dead":
                return delivery  # type: ignore[no-any-return]
        return None

    dead = _wait_for(dead_delivery, "the retries to run out")
    assert len(dead["attempts"]) == 4  # the first try and three retries
    assert all(a["status_code"] is None and a["error"] for a in dead["attempts"])

    # back up, and a replay through the API delivers it: the same webhook id, verified
    receiver.start()
    replay = post(f"/v1/webhook-endpoints/{endpoint['id']}/replay",
                  {"delivery_id": dead["id"]}, status=202)  # fmt: skip
    assert replay["count"] == 1
    replayed = _wait_for(
        lambda: [w for w in receiver.verified if w["id"] == dead["webhook_id"]], "the replay"
    )
    assert second["id"] in json.dumps(replayed[0]["data"])
    copy = _wait_for(
        lambda: (
            (d := http.get(f"{deliveries}/{replay['deliveries'][0]}").json())["state"]
            == "succeeded"
            and d
        ),
        "the replay to be logged as succeeded",
    )
    assert copy["replay_of"] == dead["id"]
    assert receiver.rejected == 0
