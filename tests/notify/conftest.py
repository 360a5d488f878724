"""Fixtures for webhooks: a real HTTP receiver that verifies Standard Webhooks signatures."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import twinrail.notify.store.tables  # noqa: F401 - registers the notify tables
from twinrail.notify.adapters.http_deliverer import HttpDeliverer
from twinrail.notify.adapters.secret_box import SecretBox
from twinrail.notify.domain.model import RetryPolicy
from twinrail.notify.service.endpoints import WebhookEndpointService
from twinrail.notify.service.fanout import WebhookFanout
from twinrail.notify.service.sender import WebhookSender
from twinrail.platform.outbox import OutboxMessage

TEST_KEY = base64.b64encode(os.urandom(32)).decode()


@dataclass
class Received:
    """One request the receiver got, and which of its secrets verified it."""

    headers: dict[str, str]
    body: bytes
    verified_with: list[int]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local webhook receiver; `status` and `hold` decide how it answers."""

    secrets: list[str] = field(default_factory=list)
    status: int = 204
    hold: threading.Event | None = None  # when set, requests wait until it is set
    received: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def verified(self) -> list[Received]:
        return [r for r in self.received if r.verified_with]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = []
            for index, secret in enumerate(receiver.secrets):
                try:
                    Webhook(secret).verify(body, headers)
                    verified.append(index)
                except WebhookVerificationError:
                    pass
            if receiver.hold is not None:
                receiver.hold.wait(10)
            receiver.received.append(Received(headers, body, verified))
            self.send_response(receiver.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    return Handler


@pytest.fixture
def serve_receiver() -> Iterator[Callable[[Receiver], Receiver]]:
    """Start receivers on free loopback ports; every one is shut down after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(receiver: Receiver) -> Receiver:
        server = ThreadingHTTPServer(("127.0.0.1", receiver.port), _handler(receiver))
        server.daemon_threads = True
        receiver.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def endpoints(engine: Engine) -> WebhookEndpointService:
    return WebhookEndpointService(engine, SecretBox(TEST_KEY))


@pytest.fixture
def fanout(engine: Engine) -> WebhookFanout:
    return WebhookFanout(engine)


FAST_RETRIES = RetryPolicy(delays=(0, 0, 0), jitter=0)  # four attempts, each due at once


@pytest.fixture
def make_sender(
    engine: Engine, endpoints: WebhookEndpointService
) -> Iterator[Callable[..., WebhookSender]]:
    made: list[WebhookSender] = []

    def make(**options: Any) -> WebhookSender:
        timeout = options.pop("timeout", 2.0)
        options.setdefault("policy", FAST_RETRIES)
        deliverer = HttpDeliverer(timeout, allow_private_networks=True)  # the receiver is local
        sender = WebhookSender(engine, endpoints, deliverer, **options)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


def order_event(client_id: str, to: str = "completed", order_id: str = "") -> OutboxMessage:
    """The outbox message the pipeline writes when an order of `client_id` moves to `to`."""
    order_id = order_id or f"po_{uuid.uuid4().hex[:12]}"
    now = dt.datetime.now(dt.UTC)
    return OutboxMessage(
        event_id=str(uuid.uuid4()), topic="pipeline.order_transitioned",
        stream_id=f"payment_order:{order_id}", stream_version=5,
        payload={"order_id": order_id, "client_id": client_id, "from": "processing", "to": to,
                 "reason": "posted", "at": now.isoformat()},
        occurred_at=now,
    )  # fmt: skip


def ledger_event() -> OutboxMessage:
    """An event of the ledger's own, which names no client."""
    return OutboxMessage(
        event_id=str(uuid.uuid4()), topic="ledger.transfer_posted", stream_id="transfer:t1",
        stream_version=1, payload={"transfer_id": "t1"}, occurred_at=dt.datetime.now(dt.UTC),
    )  # fmt: skip


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
