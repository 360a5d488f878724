"""The webhook sender: attempts due deliveries, retries with backoff and jitter, dead-letters.

A slow or dead endpoint must not hold up anyone else. Each attempt runs on a shared thread pool
with a short timeout; at most `per_endpoint_concurrency` attempts per endpoint are in flight (in
this process, and per batch across processes), and the batch query ranks deliveries within each
endpoint so one endpoint's backlog cannot crowd out the others. The API never sends: it only
writes outbox rows, which the fan-out turns into deliveries.

Several senders may run side by side: a delivery is claimed (`claimed_until`) with a conditional
UPDATE before its attempt, so only one of them tries it; a sender that dies mid-attempt leaves a
claim that expires and the delivery is tried again (at least once, with the same `webhook-id`).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import logging
import random
import threading
from collections import Counter

from sqlalchemy import Engine

from twinrail.notify.domain.model import Attempt, DeliveryState, EndpointStatus, RetryPolicy
from twinrail.notify.service.endpoints import WebhookEndpointService
from twinrail.notify.service.ports import Deliverer
from twinrail.notify.store.notify_store import NotifyStore
from twinrail.platform.clock import Clock, utc_now

__all__ = ["WebhookSender"]

log = logging.getLogger(__name__)


class WebhookSender:
    """Sends due deliveries through `deliverer`; `run_once` for a pass, `run_forever` as a loop."""

    def __init__(
        self,
        engine: Engine,
        endpoints: WebhookEndpointService,
        deliverer: Deliverer,
        *,
        policy: RetryPolicy | None = None,
        per_endpoint_concurrency: int = 2,
        max_workers: int = 16,
        batch_size: int = 200,
        claim_seconds: float = 60.0,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.engine, self.endpoints, self.deliverer = engine, endpoints, deliverer
        self.policy = policy or RetryPolicy()
        self.per_endpoint = per_endpoint_concurrency
        self.batch_size = batch_size
        self.claim_for = dt.timedelta(seconds=claim_seconds)
        self.clock = clock
        self.rng = rng or random.Random()
        self.max_workers = max_workers
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers, "webhook-sender")
        self._in_flight: Counter[str] = Counter()
        self._guard = threading.Lock()

    def run_once(self, *, wait: bool = True) -> int:
        """Start an attempt for each due delivery an endpoint has room for; how many started.

        With `wait`, return only when those attempts finished (each is bounded by its timeout).
        """
        now = self.clock()
        with self.engine.connect() as conn:
            due = NotifyStore(conn).due_ids(now, self.batch_size, self.per_endpoint)
        started: list[concurrent.futures.Future[None]] = []
        for delivery_id, endpoint_id in due:
            if not self._reserve(endpoint_id):
                continue
            with self.engine.begin() as conn:
                claimed = NotifyStore(conn).claim(delivery_id, now, now + self.claim_for)
            if not claimed:
                self._release(endpoint_id)
                continue
            started.append(self._pool.submit(self._attempt, delivery_id, endpoint_id))
        if wait:
            concurrent.futures.wait(started)
        return len(started)

    def run_forever(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Start due attempts every `interval` seconds until `stop` is set; never waits on one."""
        while not stop.is_set():
            try:
                self.run_once(wait=False)
            except Exception:
                log.exception("webhook sender pass failed; retrying")
            stop.wait(interval)
        self.close()

    def close(self) -> None:
        """Let running attempts finish (each within its timeout) and stop the threads."""
        self._pool.shutdown(wait=True)
        close = getattr(self.deliverer, "close", None)
        if callable(close):
            close()

    def _reserve(self, endpoint_id: str) -> bool:
        with self._guard:
            # Never queue behind busy threads: an attempt starts only when a thread is free.
            if self._in_flight[endpoint_id] >= self.per_endpoint:
                return False
            if sum(self._in_flight.values()) >= self.max_workers:
                return False
            self._in_flight[endpoint_id] += 1
            return True

    def _release(self, endpoint_id: str) -> None:
        with self._guard:
            self._in_flight[endpoint_id] -= 1
            if self._in_flight[endpoint_id] <= 0:
                del self._in_flight[endpoint_id]

    def _attempt(self, delivery_id: str, endpoint_id: str) -> None:
        try:
            self._try(delivery_id, endpoint_id)
        except Exception:
            # The claim expires and the delivery is tried again; nothing is lost.
            log.exception("webhook attempt for %s failed unexpectedly", delivery_id)
        finally:
            self._release(endpoint_id)

    def _try(self, delivery_id: str, endpoint_id: str) -> None:
        with self.engine.connect() as conn:
            store = NotifyStore(conn)
            delivery = store.delivery(delivery_id)
            endpoint = store.endpoint(endpoint_id, None)
        if delivery is None or endpoint is None or delivery.state is not DeliveryState.PENDING:
            return
        if endpoint.status is not EndpointStatus.ENABLED:
            with self.engine.begin() as conn:
                NotifyStore(conn).kill_pending(endpoint_id, "endpoint disabled")
            return
        at = self.clock()
        body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
        secrets = self.endpoints.signing_secrets(endpoint_id, at)
        result = self.deliverer.deliver(endpoint.url, delivery.webhook_id, at, body, secrets)
        attempt = Attempt(
            delivery_id=delivery_id, endpoint_id=endpoint_id, number=delivery.attempts + 1,
            attempted_at=at, status_code=result.status_code, latency_ms=result.latency_ms,
            error=result.error,
        )  # fmt: skip
        if attempt.succeeded:
            state, next_at = DeliveryState.SUCCEEDED, None
        else:
            delay = self.policy.next_delay(attempt.number, self.rng)
            state = DeliveryState.DEAD if delay is None else DeliveryState.PENDING
            next_at = None if delay is None else self.clock() + dt.timedelta(seconds=delay)
        with self.engine.begin() as conn:
            NotifyStore(conn).record_attempt(attempt, state, next_at)
        if state is DeliveryState.DEAD:
            log.warning("webhook delivery %s dead after %d attempts", delivery_id, attempt.number)
