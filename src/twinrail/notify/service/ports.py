"""The port the sender delivers through, and what one try of it returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Deliverer", "DeliveryResult", "SecretSealer"]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of one HTTP try: the status (None when no answer came), latency, error."""

    status_code: int | None
    latency_ms: int
    error: str | None = None


class Deliverer(Protocol):
    """Signs `body` with every secret and POSTs it to `url` once, within its timeout."""

    def deliver(
        self,
        url: str,
        webhook_id: str,
        timestamp: dt.datetime,
        body: str,
        secrets: Sequence[str],
    ) -> DeliveryResult: ...


class SecretSealer(Protocol):
    """Encrypts endpoint secrets for storage, bound to their endpoint id, and opens them again."""

    def seal(self, endpoint_id: str, secret: str) -> str: ...

    def open(self, endpoint_id: str, sealed: str) -> str: ...
