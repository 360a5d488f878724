"""DNS rebinding: the address the SSRF guard vetted is the address the webhook connects to.

A hostile DNS server can answer a public address to the check and a private one to the
connection. The deliverer resolves once per attempt and connects to the vetted address; these
tests give it a resolver that changes its answer between calls and a network backend that records
where each connection was asked to go (and routes it to a local receiver, standing in for the
public host).
"""

from __future__ import annotations

import datetime as dt
import threading
import typing
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpcore
import pytest

from twinrail.notify.adapters.http_deliverer import HttpDeliverer

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PUBLIC = "93.184.216.34"


class RecordingBackend(httpcore.NetworkBackend):
    """Records the address of every connection and routes it to the local receiver."""

    def __init__(self, receiver_port: int) -> None:
        self.receiver_port = receiver_port
        self.connected_to: list[tuple[str, int]] = []
        self._real = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        self.connected_to.append((host, port))
        return self._real.connect_tcp(
            "127.0.0.1", self.receiver_port, timeout, local_address, socket_options
        )

    def sleep(self, seconds: float) -> None:
        self._real.sleep(seconds)


class FlippingResolver:
    """Answers `answers[i]` to the i-th lookup (the last one ever after)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, _port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers[min(len(self.lookups), len(self.answers)) - 1]


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[str]]]:
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("content-length", "0")))
            hosts.append(self.headers["host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hosts
    server.shutdown()
    server.server_close()


def _deliver(deliverer: HttpDeliverer, url: str, webhook_id: str) -> tuple[int | None, str | None]:
    result = deliverer.deliver(url, webhook_id, dt.datetime.now(dt.UTC), "{}", [SECRET])
    return result.status_code, result.error


def test_the_connection_goes_to_the_vetted_public_address_even_if_dns_now_says_private(
    receiver: tuple[int, list[str]],
) -> None:
    port, hosts = receiver
    resolver = FlippingResolver([PUBLIC], ["127.0.0.1"])
    backend = RecordingBackend(port)
    deliverer = HttpDeliverer(2.0, resolve=resolver, network_backend=backend)
    try:
        assert _deliver(deliverer, "http://Hooks.Example.com:8080/in", "msg_1") == (204, None)
    finally:
        deliverer.close()
    # one lookup, vetted, and the connection went to its answer, not to a second lookup
    assert resolver.lookups == ["hooks.example.com"]
    assert backend.connected_to == [(PUBLIC, 8080)]
    # the receiver still sees the host name it was registered under
    assert hosts == ["hooks.example.com:8080"]


def test_a_host_that_rebinds_to_a_private_address_is_refused_on_the_next_attempt(
    receiver: tuple[int, list[str]],
) -> None:
    port, hosts = receiver
    resolver = FlippingResolver([PUBLIC], ["10.0.0.7", PUBLIC])
    backend = RecordingBackend(port)
    deliverer = HttpDeliverer(2.0, resolve=resolver, network_backend=backend)
    try:
        assert _deliver(deliverer, "http://hooks.example.com/in", "msg_1") == (204, None)
        second = _deliver(deliverer, "http://hooks.example.com/in", "msg_2")
    finally:
        deliverer.close()
    assert second == (None, "destination 10.0.0.7 is not a public address")
    assert backend.connected_to == [(PUBLIC, 80)]  # nothing was opened for the refused attempt
    assert len(hosts) == 1


def test_the_first_of_several_vetted_answers_is_the_one_connected_to(
    receiver: tuple[int, list[str]],
) -> None:
    port, _ = receiver
    backend = RecordingBackend(port)
    resolver = FlippingResolver(["93.184.216.34", "93.184.216.35"])
    deliverer = HttpDeliverer(2.0, resolve=resolver, network_backend=backend)
    try:
        assert _deliver(deliverer, "http://hooks.example.com/in", "msg_1") == (204, None)
    finally:
        deliverer.close()
    assert backend.connected_to == [("93.184.216.34", 80)]
