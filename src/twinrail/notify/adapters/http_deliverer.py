"""Standard Webhooks over httpx: signed with the `standardwebhooks` library, one POST per try.

Several secrets (during a rotation) give several `v1,` signatures in one `webhook-signature`
header, separated by spaces, as the specification allows; a receiver holding either secret
verifies. Redirects are not followed (a receiver must answer at the registered URL), the
response body is never read, and every phase of the request has the configured timeout.

DNS rebinding: the host name is resolved once per attempt, every answer is vetted, and the
connection goes to the first vetted address (`_PinnedBackend`), never to a second lookup that a
hostile DNS server could answer differently. The URL's host still names the server in the
`Host` header and, for https, in SNI and certificate verification.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import urlsplit

import httpcore
import httpx
from standardwebhooks.webhooks import Webhook

from twinrail.notify.domain.destinations import forbidden_destination
from twinrail.notify.service.ports import DeliveryResult

__all__ = ["HttpDeliverer", "signature_header"]

# The vetted address of each host name for the attempt in progress on this thread (or task).
_pinned: ContextVar[dict[str, str] | None] = ContextVar("twinrail_webhook_pinned", default=None)


def signature_header(
    webhook_id: str, timestamp: dt.datetime, body: str, secrets: Sequence[str]
) -> str:
    """The `webhook-signature` value: one `v1,<base64>` per secret, space-separated."""
    return " ".join(Webhook(secret).sign(webhook_id, timestamp, body) for secret in secrets)


class HttpDeliverer:
    """Delivers over a shared httpx client (thread-safe); pass `transport` to fake the network."""

    def __init__(
        self,
        timeout: float = 5.0,
        *,
        transport: httpx.BaseTransport | None = None,
        allow_private_networks: bool = False,
        resolve: Callable[[str, int], list[str]] | None = None,
        network_backend: httpcore.NetworkBackend | None = None,
    ) -> None:
        self._allow_private = allow_private_networks
        self._resolve = resolve or _resolve
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport or _PinnedTransport(limits, network_backend),
            headers={"user-agent": "twinrail-webhooks/1"},
        )

    def deliver(
        self,
        url: str,
        webhook_id: str,
        timestamp: dt.datetime,
        body: str,
        secrets: Sequence[str],
    ) -> DeliveryResult:
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature_header(webhook_id, timestamp, body, secrets),
        }
        started = time.monotonic()
        # Resolved and checked before every attempt, as DNS may change; the connection then goes
        # to the address checked here, not to what a second lookup would say.
        host, vetted, refused = self._vetted(url)
        if refused:
            return DeliveryResult(None, _since(started), refused)
        try:
            with (
                _pinned_to(host, vetted),
                self._client.stream("POST", url, content=body.encode(), headers=headers) as r,
            ):
                status = r.status_code
        except httpx.TimeoutException as exc:
            return DeliveryResult(None, _since(started), f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return DeliveryResult(None, _since(started), f"{type(exc).__name__}: {exc}"[:500])
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return DeliveryResult(status, _since(started), error)

    def close(self) -> None:
        self._client.close()

    def _vetted(self, url: str) -> tuple[str, str, str | None]:
        """(host, the address to connect to, None) or (host, "", why it is refused)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = self._resolve(host, port)
        except OSError as exc:
            return host, "", f"cannot resolve {parts.hostname}: {exc}"[:500]
        refused = forbidden_destination(addresses, allow_private=self._allow_private)
        return host, ("" if refused else addresses[0]), refused


@contextmanager
def _pinned_to(host: str, address: str) -> Iterator[None]:
    token = _pinned.set({host: address})
    try:
        yield
    finally:
        _pinned.reset(token)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the address vetted for the host name, never resolving it again."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        address = (_pinned.get() or {}).get(host.lower())
        if address is None:  # only deliver() opens connections, and it always pins first
            raise httpcore.ConnectError(f"no vetted address for {host}")
        return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose connections go to pinned addresses.

    httpx does not take a network backend, so the pool it built is replaced by one that has it
    (no proxy: a proxy would resolve the name itself, outside the check).
    """

    def __init__(self, limits: httpx.Limits, inner: httpcore.NetworkBackend | None = None) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(inner),
        )


def _resolve(host: str, port: int) -> list[str]:
    """Every address of `host`, in the resolver's order of preference, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
