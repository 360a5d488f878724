"""OpenTelemetry: one POST /v1/payment-orders is one trace, api → ledger → unit-of-work commit
(outbox write), and the relay traces what it publishes. Spans go to an in-memory exporter."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Engine

from twinrail.api.domain.roles import Role
from twinrail.platform.bus import InProcessBus
from twinrail.platform.relay import OutboxRelay

from .conftest import make_app, new_caller
from .test_payment_orders import _account, _order, _post

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The process-wide provider (installed once: OpenTelemetry's global cannot be replaced)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


@pytest.mark.parametrize("group_commit", [False, True], ids=["direct", "group-commit"])
def test_one_payment_order_is_one_trace_from_the_server_span_to_the_ledger_and_outbox(
    engine: Engine, spans: InMemorySpanExporter, group_commit: bool
) -> None:
    with TestClient(make_app(engine, group_commit=group_commit)) as client:
        alice = new_caller(client, Role.CLIENT)
        src, dst = _account(client, alice, funded=10_000), _account(client, alice)
        spans.clear()
        created = _post(client, alice, "/v1/payment-orders", _order(src, dst))
    assert created.status_code == 201 and created.json()["state"] == "completed"
    finished = spans.get_finished_spans()
    # (a span of an earlier request may end just after the clear(): pick by name)
    (server,) = [
        s for s in finished if s.kind is SpanKind.SERVER and s.name == "POST /v1/payment-orders"
    ]
    assert server.parent is None
    assert server.attributes is not None and server.attributes["http.response.status_code"] == 201
    in_trace = [s for s in finished if s.context.trace_id == server.context.trace_id]
    by_id = {s.context.span_id: s for s in in_trace}
    for span in in_trace:
        if span.name.startswith("ledger."):
            assert _ancestors(span, by_id)[-1] == server.name
    if group_commit:
        # shared commits run on committer threads, each batch a span of its own that links to
        # every caller it served: here the pipeline's span of this order (hold, then post)
        (pipeline,) = [s for s in in_trace if s.name == "pipeline.create_order"]
        batches = [
            s for s in finished
            if s.name == "ledger.group_commit"
            and any(link.context.span_id == pipeline.context.span_id for link in s.links)
        ]  # fmt: skip
        assert len(batches) == 2
        assert all(
            any(c.name == "ledger.post_bulk" for c in _children(b, finished)) for b in batches
        )
        return
    assert {"ledger.place_hold", "ledger.post_hold"} <= {s.name for s in in_trace}
    ledger_commits = [
        s
        for s in in_trace
        if s.name == "uow.commit" and _ancestors(s, by_id)[0].startswith("ledger.")
    ]
    assert ledger_commits, "the ledger's unit of work commits under its ledger span"
    assert any(
        s.attributes and s.attributes.get("twinrail.outbox.messages") for s in ledger_commits
    )


def test_a_callers_traceparent_makes_the_server_span_its_child(
    sqlite_engine: Engine, spans: InMemorySpanExporter
) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with TestClient(make_app(sqlite_engine)) as client:
        spans.clear()
        client.get("/healthz", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    (server,) = [s for s in spans.get_finished_spans() if s.name == "GET /healthz"]
    assert server.kind is SpanKind.SERVER
    assert server.context.trace_id == int(trace_id, 16)
    assert server.parent is not None and server.parent.span_id == int(parent_id, 16)


def test_the_relay_traces_each_batch_it_publishes(
    sqlite_engine: Engine, spans: InMemorySpanExporter
) -> None:
    make_app(sqlite_engine)  # defines EUR: at least one outbox row waiting
    spans.clear()
    with InProcessBus() as bus:
        relay = OutboxRelay(sqlite_engine, bus)
        published = relay.relay_once()
        relay.lease.release()
    (batch,) = [s for s in spans.get_finished_spans() if s.name == "outbox.relay"]
    assert published >= 1
    assert batch.attributes is not None
    assert batch.attributes["twinrail.outbox.messages"] == published


def test_an_otlp_endpoint_in_the_environment_installs_an_exporting_provider() -> None:
    code = (
        "from opentelemetry import trace\n"
        "from twinrail.platform.telemetry import configure_tracing\n"
        "installed = configure_tracing()\n"
        "print(type(installed).__name__, type(trace.get_tracer_provider()).__name__)\n"
    )
    env = {**os.environ, "TWINRAIL_OTLP_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}
    ran = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert ran.stdout.split() == ["TracerProvider", "TracerProvider"], ran.stderr
    env.pop("TWINRAIL_OTLP_ENDPOINT")
    ran = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert ran.stdout.split() == ["NoneType", "ProxyTracerProvider"], ran.stderr


def _children(parent: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]
