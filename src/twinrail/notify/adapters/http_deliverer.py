"""Standard Webhooks over httpx: signed with the `standardwebhooks` library, one POST per try.

Several secrets (during a rotation) give several `v1,` signatures in one `webhook-signature`
header, separated by spaces, as the specification allows; a receiver holding either secret
verifies. Redirects are not followed (a receiver must answer at the registered URL), the
response body is never read, and every phase of the request has the configured timeout.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from twinrail.notify.domain.destinations import forbidden_destination
from twinrail.notify.service.ports import DeliveryResult

__all__ = ["HttpDeliverer", "signature_header"]


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
    ) -> None:
        self._allow_private = allow_private_networks
        self._resolve = resolve or _resolve
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
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
        # Checked before every attempt, as DNS may change; httpx resolves again on connect, so a
        # rebinding host could still slip between the two (a pinned-address transport would not).
        refused = self._refusal(url)
        if refused:
            return DeliveryResult(None, _since(started), refused)
        try:
            with self._client.stream("POST", url, content=body.encode(), headers=headers) as r:
                status = r.status_code
        except httpx.TimeoutException as exc:
            return DeliveryResult(None, _since(started), f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return DeliveryResult(None, _since(started), f"{type(exc).__name__}: {exc}"[:500])
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return DeliveryResult(status, _since(started), error)

    def close(self) -> None:
        self._client.close()

    def _refusal(self, url: str) -> str | None:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = self._resolve(parts.hostname or "", port)
        except OSError as exc:
            return f"cannot resolve {parts.hostname}: {exc}"[:500]
        return forbidden_destination(addresses, allow_private=self._allow_private)


def _resolve(host: str, port: int) -> list[str]:
    return sorted(
        {str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    )


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
