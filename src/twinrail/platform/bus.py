"""The event bus: a small port, the in-process bus (embedded default and fake) and JetStream.

Errors:

    BusError
    ├── BusTimeout       the bus did not answer in time (retryable)
    └── PublishFailed    some messages of a batch were not acknowledged (retryable)

Topics are dot-separated (`ledger.transfer_posted`) and patterns use NATS wildcards on both
buses: `*` matches one token, `>` one or more trailing tokens. Delivery is at least once, so
subscribers must be idempotent (see `consumers.handle_once`). Each message's event id travels as
JetStream's `Nats-Msg-Id`, so a message republished within the stream's duplicate window is
acknowledged as a duplicate and not stored twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from twinrail.platform.outbox import OutboxMessage

__all__ = [
    "Bus",
    "BusError",
    "BusTimeout",
    "Handler",
    "InProcessBus",
    "JetStreamBus",
    "PublishFailed",
    "PublishReceipt",
    "PullConsumer",
    "Subscription",
    "bus_from_url",
    "topic_matches",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

Handler = Callable[[OutboxMessage], None]


class BusError(Exception):
    """The bus failed; the root of this module's errors."""


class BusTimeout(BusError):
    """The bus did not answer within the timeout; safe to retry."""


class PublishFailed(BusError):
    """Not every message was acknowledged; `acknowledged` holds the receipts of those that were."""

    def __init__(self, message: str, acknowledged: Sequence[PublishReceipt]) -> None:
        super().__init__(message)
        self.acknowledged = list(acknowledged)


@dataclass(frozen=True, slots=True)
class PublishReceipt:
    """The bus's acknowledgement of one message; `duplicate` if it already held that event id."""

    event_id: str
    duplicate: bool = False
    sequence: int | None = None


class Subscription(ABC):
    """A handler attached to a pattern; `close` detaches it (a durable position survives)."""

    @abstractmethod
    def close(self) -> None: ...


class Bus(ABC):
    """Publishes outbox messages and delivers them to subscribers, at least once."""

    @abstractmethod
    def publish(self, messages: Sequence[OutboxMessage]) -> list[PublishReceipt]:
        """Publish in order and wait for every acknowledgement, else raise PublishFailed."""

    @abstractmethod
    def subscribe(self, pattern: str, handler: Handler, *, consumer: str) -> Subscription:
        """Deliver messages whose topic matches `pattern` to `handler`, as durable `consumer`."""

    @abstractmethod
    def close(self) -> None:
        """Detach every subscription and release connections; idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether `topic` matches a NATS-style `pattern` (`*` one token, `>` the rest)."""
    wanted, tokens = pattern.split("."), topic.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(tokens) == len(wanted)


# in-process


class _LocalSubscription(Subscription):
    def __init__(self, bus: InProcessBus, pattern: str, handler: Handler, consumer: str) -> None:
        self.bus, self.pattern, self.handler, self.consumer = bus, pattern, handler, consumer

    def close(self) -> None:
        self.bus._detach(self)


class InProcessBus(Bus):
    """Delivers each message synchronously to matching subscribers, in the publisher's thread.

    A message counts as acknowledged once every matching handler returned; a handler's
    exception stops the batch with PublishFailed, so the relay leaves that message unpublished
    and offers it again (to every subscriber: they are idempotent). Messages reach only
    subscribers in this process, which is what the embedded, single-process set-up needs.
    """

    def __init__(self) -> None:
        self._subscriptions: list[_LocalSubscription] = []
        self._guard = threading.Lock()
        # One batch at a time keeps every subscriber's view in publish order; re-entrant so that
        # a handler may itself publish.
        self._delivering = threading.RLock()
        self._closed = False

    def publish(self, messages: Sequence[OutboxMessage]) -> list[PublishReceipt]:
        receipts: list[PublishReceipt] = []
        with self._delivering:
            for message in messages:
                with self._guard:
                    if self._closed:
                        raise PublishFailed("the bus is closed", receipts)
                    targets = [
                        s for s in self._subscriptions if topic_matches(s.pattern, message.topic)
                    ]
                for subscription in targets:
                    try:
                        subscription.handler(message)
                    except Exception as exc:
                        raise PublishFailed(
                            f"{subscription.consumer} failed on {message.event_id}: {exc!r}",
                            receipts,
                        ) from exc
                receipts.append(PublishReceipt(message.event_id))
        return receipts

    def subscribe(self, pattern: str, handler: Handler, *, consumer: str) -> Subscription:
        subscription = _LocalSubscription(self, pattern, handler, consumer)
        with self._guard:
            if self._closed:
                raise BusError("the bus is closed")
            self._subscriptions.append(subscription)
        return subscription

    def close(self) -> None:
        with self._guard:
            self._closed = True
            self._subscriptions.clear()

    def _detach(self, subscription: _LocalSubscription) -> None:
        with self._guard:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)


# JetStream


class _LoopThread:
    """A private asyncio loop on a daemon thread, so that synchronous callers can use nats-py."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run `coro` on the loop and wait for it; nats-py's errors come out as BusError."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("blocking bus call from the bus's own event loop")
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout), self.loop)
        try:
            return future.result(timeout + 1.0)  # the margin lets wait_for cancel cleanly first
        except (TimeoutError, concurrent.futures.TimeoutError) as exc:
            future.cancel()
            raise BusTimeout(f"no answer from the bus within {timeout}s") from exc
        except (nats.errors.Error, OSError) as exc:
            raise BusError(f"the bus failed: {exc!r}") from exc

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5.0)
        if not self._thread.is_alive():
            self.loop.close()


class JetStreamBus(Bus):
    """NATS JetStream behind a synchronous facade; every call has a timeout.

    The stream (`stream`, subjects `<subject_prefix>.>`) is created if missing; a message's
    subject is `<subject_prefix>.<topic>`. `duplicate_window` is how long JetStream remembers
    event ids: a relay that restarts within it republishes without storing twice.
    """

    def __init__(
        self,
        url: str,
        stream: str = "TWINRAIL",
        *,
        subject_prefix: str = "twinrail",
        timeout: float = 5.0,
        duplicate_window: float = 120.0,
        poll_wait: float = 1.0,
    ) -> None:
        self.url, self.stream, self.subject_prefix = url, stream, subject_prefix
        self.timeout, self.duplicate_window, self.poll_wait = timeout, duplicate_window, poll_wait
        self._subscriptions: list[_PullSubscription] = []
        self._guard = threading.Lock()
        self._closed = False
        self._runner = _LoopThread(f"jetstream-{stream}")
        try:
            self._nc = self._runner.run(self._connect(), timeout)
        except BusError as exc:
            self._runner.stop()
            raise BusError(f"cannot reach NATS at {url}") from exc
        self._js = self._nc.jetstream(timeout=timeout)
        try:
            self._runner.run(self._ensure_stream(), timeout)
        except BaseException:
            self.close()
            raise

    def subject(self, topic: str) -> str:
        return f"{self.subject_prefix}.{topic}"

    def publish(self, messages: Sequence[OutboxMessage]) -> list[PublishReceipt]:
        if not messages:
            return []
        return self._runner.run(self._publish(messages), self.timeout)

    def subscribe(self, pattern: str, handler: Handler, *, consumer: str) -> Subscription:
        subscription = _PullSubscription(self.pull_consumer(consumer, pattern), handler)
        with self._guard:
            self._subscriptions.append(subscription)
        return subscription

    def pull_consumer(
        self, consumer: str, pattern: str = ">", *, redelivery_delay: float = 1.0
    ) -> PullConsumer:
        """A durable pull consumer named after `consumer`, resuming where it left off."""
        return PullConsumer(self, consumer, pattern, redelivery_delay=redelivery_delay)

    def message_count(self) -> int:
        """How many messages the stream stores."""
        info = self._runner.run(self._js.stream_info(self.stream), self.timeout)
        return int(info.state.messages)

    def delete_stream(self) -> None:
        """Delete the stream and everything in it (tests and tear-down only)."""
        self._runner.run(self._js.delete_stream(self.stream), self.timeout)

    def close(self) -> None:
        with self._guard:
            if self._closed:
                return
            self._closed = True
            subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            subscription.close()
        try:
            self._runner.run(self._nc.close(), self.timeout)
        except BusError:
            log.warning("the NATS connection did not close cleanly", exc_info=True)
        finally:
            self._runner.stop()

    async def _connect(self) -> Any:
        async def on_error(exc: Exception) -> None:
            log.warning("NATS error: %r", exc)

        return await nats.connect(
            self.url,
            name="twinrail",
            connect_timeout=max(1, int(self.timeout)),
            max_reconnect_attempts=-1,  # keep trying: every call still times out on its own
            error_cb=on_error,
        )

    async def _ensure_stream(self) -> None:
        try:
            await self._js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self._js.add_stream(
                name=self.stream,
                subjects=[f"{self.subject_prefix}.>"],
                duplicate_window=self.duplicate_window,
            )

    async def _publish(self, messages: Sequence[OutboxMessage]) -> list[PublishReceipt]:
        # publish_async writes in call order and pipelines the acknowledgements, so the stream
        # keeps the outbox order without a round trip per message.
        pending: list[asyncio.Future[Any]] = []
        cause: BaseException | None = None
        for m in messages:
            try:
                pending.append(
                    await self._js.publish_async(
                        self.subject(m.topic),
                        json.dumps(m.envelope()).encode(),
                        wait_stall=self.timeout,
                        stream=self.stream,
                        headers={"Nats-Msg-Id": m.event_id},
                    )
                )
            except nats.errors.Error as exc:
                cause = exc
                break
        if pending:
            await asyncio.wait(pending, timeout=self.timeout)
        receipts = []
        for message, future in zip(messages, pending, strict=False):
            if future.done() and not future.cancelled() and future.exception() is None:
                ack = future.result()
                receipts.append(PublishReceipt(message.event_id, bool(ack.duplicate), ack.seq))
            else:
                future.cancel()
                cause = cause or (
                    future.exception() if future.done() and not future.cancelled() else None
                )
        if len(receipts) < len(messages):
            missing = len(messages) - len(receipts)
            raise PublishFailed(f"{missing} message(s) not acknowledged: {cause!r}", receipts)
        return receipts


class PullConsumer:
    """A durable JetStream pull consumer; the server keeps its position across restarts."""

    def __init__(
        self,
        bus: JetStreamBus,
        consumer: str,
        pattern: str = ">",
        *,
        redelivery_delay: float = 1.0,
    ) -> None:
        self.bus = bus
        self.redelivery_delay = redelivery_delay
        self.name = re.sub(r"[^A-Za-z0-9_-]", "_", consumer)  # durable names allow no dots
        config = ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=30.0,
            max_ack_pending=1000,
        )
        self._sub = bus._runner.run(
            bus._js.pull_subscribe(
                bus.subject(pattern), durable=self.name, stream=bus.stream, config=config
            ),
            bus.timeout,
        )

    def process(self, handler: Handler, *, batch: int = 100, wait: float | None = None) -> int:
        """Hand up to `batch` waiting messages to `handler` in order, acking each; how many.

        If the handler raises, that message and the rest of the batch are nak'ed (offered
        again shortly, in order) and the exception propagates.
        """
        wait = self.bus.poll_wait if wait is None else wait
        msgs = self.bus._runner.run(self._fetch(batch, wait), wait + self.bus.timeout)
        for index, msg in enumerate(msgs):
            try:
                message = OutboxMessage.from_envelope(json.loads(msg.data))
            except (ValueError, KeyError, TypeError):
                # Not an outbox envelope: no redelivery can fix it, so stop its deliveries.
                log.error("dropping a malformed message on %s (%s)", msg.subject, self.name)
                self.bus._runner.run(msg.term(), self.bus.timeout)
                continue
            try:
                handler(message)
            except Exception:
                self.bus._runner.run(self._nak(msgs[index:]), self.bus.timeout)
                raise
            self.bus._runner.run(msg.ack(), self.bus.timeout)
        if msgs:
            self.bus._runner.run(self.bus._nc.flush(self.bus.timeout), self.bus.timeout)
        return len(msgs)

    def close(self) -> None:
        """Stop pulling; the durable consumer and its position stay on the server."""
        try:
            self.bus._runner.run(self._sub.unsubscribe(), self.bus.timeout)
        except BusError:
            log.warning("could not unsubscribe %s", self.name, exc_info=True)

    async def _fetch(self, batch: int, wait: float) -> list[Any]:
        try:
            return list(await self._sub.fetch(batch, timeout=wait))
        except TimeoutError:
            # Nothing waiting. nats-py raises its own TimeoutError or, on some paths, asyncio's
            # (the builtin); both are "no messages within `wait`".
            return []

    async def _nak(self, msgs: Sequence[Any]) -> None:
        for msg in msgs:
            await msg.nak(delay=self.redelivery_delay)


class _PullSubscription(Subscription):
    """Runs a pull consumer on a thread of its own until closed."""

    def __init__(self, consumer: PullConsumer, handler: Handler) -> None:
        self._consumer, self._handler = consumer, handler
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"consumer-{consumer.name}")
        self._thread.daemon = True
        self._thread.start()

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=self._consumer.bus.poll_wait + self._consumer.bus.timeout)
        self._consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consumer.process(self._handler)
            except Exception:
                log.exception("consumer %s failed; retrying", self._consumer.name)
                self._stop.wait(1.0)


def bus_from_url(
    url: str, stream: str = "TWINRAIL", *, subject_prefix: str = "twinrail", timeout: float = 5.0
) -> Bus:
    """`inproc://` for the in-process bus, `nats://host:port` for JetStream stream `stream`."""
    if url.startswith("inproc://"):
        return InProcessBus()
    if url.startswith(("nats://", "tls://")):
        return JetStreamBus(url, stream, subject_prefix=subject_prefix, timeout=timeout)
    raise ValueError(f"unsupported bus URL {url!r}: use inproc:// or nats://host:port")
