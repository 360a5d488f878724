"""Prometheus metrics: request latency, payment orders by state, outbox lag, webhook failures.

Latency is observed in the process that served the request. Everything else is read from the
database at scrape time, so it is right whichever process (API or worker) made the change.

Each app has its own registry, so several apps (tests) never share series. With several uvicorn
workers (`twinrail serve --workers N`), `PROMETHEUS_MULTIPROC_DIR` names a directory the workers
share: each writes its observations there and a scrape, answered by any worker, adds them up
(prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from twinrail.platform.relay import OutboxBacklog

__all__ = ["ApiMetrics", "CONTENT_TYPE", "MULTIPROC_ENV"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _OrdersByState(Collector):
    """Read at scrape time from the database, so it is right whichever process moved the order."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "twinrail_payment_orders", "Payment orders by state.", labels=["state"]
        )
        for state, count in sorted(self.counts().items()):
            family.add_metric([state], count)
        yield family


class _OutboxLag(Collector):
    """How far the relay is behind: unpublished rows and the age of the oldest."""

    def __init__(self, backlog: Callable[[], OutboxBacklog]) -> None:
        self.backlog = backlog

    def collect(self) -> Iterator[GaugeMetricFamily]:
        found = self.backlog()
        yield GaugeMetricFamily(
            "twinrail_outbox_unpublished",
            "Outbox rows not yet published to the bus.",
            value=found.unpublished,
        )
        yield GaugeMetricFamily(
            "twinrail_outbox_oldest_unpublished_age_seconds",
            "Age of the oldest unpublished outbox row (0 when none is waiting).",
            value=found.oldest_age_seconds or 0.0,
        )


class _WebhookHealth(Collector):
    """Webhook deliveries by state (`dead` is the dead-letter count) and failed attempts."""

    def __init__(self, health: Callable[[], Mapping[str, int]]) -> None:
        self.health = health

    def collect(self) -> Iterator[GaugeMetricFamily]:
        found = dict(self.health())
        failed = found.pop("failed_attempts", 0)
        # A total that only grows, but counted in the database rather than in this process:
        # exposed as a gauge so that `rate()`-style alerts work across restarts of any process.
        yield GaugeMetricFamily(
            "twinrail_webhook_failed_attempts",
            "Webhook delivery attempts that failed (non-2xx, timeout, refused), in total.",
            value=failed,
        )
        family = GaugeMetricFamily(
            "twinrail_webhook_deliveries",
            "Webhook deliveries by state; `dead` ones were dead-lettered.",
            labels=["state"],
        )
        for state, count in sorted(found.items()):
            family.add_metric([state], count)
        yield family


class ApiMetrics:
    """The API's metrics registry and the observations the middleware feeds it."""

    def __init__(
        self,
        order_counts: Callable[[], dict[str, int]],
        *,
        outbox_backlog: Callable[[], OutboxBacklog] | None = None,
        webhook_health: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "twinrail_http_request_duration_seconds",
            "HTTP request latency by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self._scraped: list[Collector] = [_OrdersByState(order_counts)]
        if outbox_backlog is not None:
            self._scraped.append(_OutboxLag(outbox_backlog))
        if webhook_health is not None:
            self._scraped.append(_WebhookHealth(webhook_health))
        for collector in self._scraped:
            self.registry.register(collector)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.latency.labels(method, route, str(status)).observe(seconds)

    def render(self) -> bytes:
        """The exposition text; in multiprocess mode, every worker's observations added up."""
        directory = os.environ.get(MULTIPROC_ENV)
        if not directory:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        for collector in self._scraped:
            registry.register(collector)
        return generate_latest(registry)
