"""`/metrics` shows outbox lag and webhook failures, read from the database at scrape time; with
several uvicorn workers the latency series of all of them add up (multiprocess mode)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from twinrail.api.domain.roles import Role
from twinrail.notify.adapters.http_deliverer import HttpDeliverer
from twinrail.notify.domain.model import RetryPolicy
from twinrail.notify.service.fanout import WebhookFanout
from twinrail.notify.service.sender import WebhookSender
from twinrail.platform.bus import InProcessBus
from twinrail.platform.relay import OutboxRelay

from ..notify.conftest import order_event
from .conftest import free_port, new_caller


def _sample(body: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", body, re.MULTILINE)
    assert match, f"{name}{labels} not in the scrape"
    return float(match.group(1))


def _relay_everything(client: TestClient) -> None:
    engine = client.app.state.services.platform.engine  # type: ignore[attr-defined]
    with InProcessBus() as bus:
        relay = OutboxRelay(engine, bus)
        while relay.relay_once():
            pass
        relay.lease.release()


def test_outbox_lag_shows_rows_waiting_for_the_relay_and_drops_when_they_are_published(
    client: TestClient,
) -> None:
    _relay_everything(client)
    body = client.get("/metrics").text
    assert _sample(body, "twinrail_outbox_unpublished") == 0
    assert _sample(body, "twinrail_outbox_oldest_unpublished_age_seconds") == 0

    caller = new_caller(client, Role.CLIENT)
    headers = {**caller.headers, "Idempotency-Key": uuid.uuid4().hex}
    customer = client.post(
        "/v1/customers", json={"kind": "individual", "name": "A"}, headers=headers
    )
    headers["Idempotency-Key"] = uuid.uuid4().hex
    opened = client.post(
        "/v1/accounts", json={"customer_id": customer.json()["id"], "asset": "EUR"}, headers=headers
    )
    assert opened.status_code == 201, opened.text
    body = client.get("/metrics").text
    assert _sample(body, "twinrail_outbox_unpublished") >= 1  # the ledger account's event
    assert _sample(body, "twinrail_outbox_oldest_unpublished_age_seconds") >= 0

    _relay_everything(client)
    assert _sample(client.get("/metrics").text, "twinrail_outbox_unpublished") == 0


def test_webhook_failures_count_failed_attempts_and_dead_letters(client: TestClient) -> None:
    app = client.app
    engine = app.state.services.platform.engine  # type: ignore[attr-defined]
    webhooks = app.state.webhooks  # type: ignore[attr-defined]
    body = client.get("/metrics").text
    assert _sample(body, "twinrail_webhook_failed_attempts") == 0
    assert _sample(body, "twinrail_webhook_deliveries", '{state="dead"}') == 0

    down = f"http://127.0.0.1:{free_port()}/hooks"  # nothing listens there
    webhooks.create("cli_metrics", down, ["payment_order.completed"])
    WebhookFanout(engine).handle(order_event("cli_metrics"))
    deliverer = HttpDeliverer(2.0, allow_private_networks=True)
    sender = WebhookSender(engine, webhooks, deliverer, policy=RetryPolicy(delays=(0,), jitter=0))
    try:
        sender.run_once()
        body = client.get("/metrics").text
        assert _sample(body, "twinrail_webhook_failed_attempts") == 1
        assert _sample(body, "twinrail_webhook_deliveries", '{state="pending"}') == 1
        sender.run_once()  # the one retry fails too: dead-lettered
    finally:
        sender.close()
    body = client.get("/metrics").text
    assert _sample(body, "twinrail_webhook_failed_attempts") == 2
    assert _sample(body, "twinrail_webhook_deliveries", '{state="dead"}') == 1
    assert _sample(body, "twinrail_webhook_deliveries", '{state="pending"}') == 0


def test_with_several_workers_every_scrape_adds_up_all_workers_observations(
    tmp_path: Path,
) -> None:
    port = free_port()
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    env = {**os.environ, "TWINRAIL_VAR_DIR": str(tmp_path), "TWINRAIL_DATABASE_URL": "",
           "PROMETHEUS_MULTIPROC_DIR": str(multiproc), "TWINRAIL_LOG_FORMAT": "json"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "twinrail.cli.main", "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "server exited early"
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        for _ in range(29):  # a new connection each, so both workers take some
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        counts = set()
        for _ in range(6):
            scrape = httpx.get(f"{base}/metrics", timeout=5).text
            counts.add(
                _sample(
                    scrape,
                    "twinrail_http_request_duration_seconds_count",
                    '{method="GET",route="/healthz",status="200"}',
                )
            )
        assert counts == {30.0}
        assert len(list(multiproc.iterdir())) >= 2  # one file per worker process
    finally:
        process.terminate()
        process.communicate(timeout=20)
