"""Prometheus metrics: request latency by route and status, payment orders by state.

Each app has its own registry, so several apps (tests) never share series. With several
uvicorn worker processes each serves its own figures; a multi-process collector is future work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["ApiMetrics", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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


class ApiMetrics:
    """The API's metrics registry and the observations the middleware feeds it."""

    def __init__(self, order_counts: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "twinrail_http_request_duration_seconds",
            "HTTP request latency by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.registry.register(_OrdersByState(order_counts))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.latency.labels(method, route, str(status)).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
