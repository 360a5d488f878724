"""OpenTelemetry tracing: api → pipeline → ledger → outbox spans, exported by configuration.

Code everywhere starts spans through the OpenTelemetry API (`tracer(__name__)`), which does
nothing until a tracer provider is installed, so an unconfigured process pays a few function
calls per span. `configure_tracing` installs an SDK provider exporting over OTLP/HTTP when
`TWINRAIL_OTLP_ENDPOINT` is set (e.g. http://127.0.0.1:4318/v1/traces); tests install their own
provider with an in-memory exporter.

The server span of each request is FastAPI's (its native telemetry: W3C `traceparent` accepted,
named by method and route template); everything below it is twinrail's.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.trace import Tracer

__all__ = [
    "tracer",
    "configure_tracing",
    "OTLP_ENDPOINT_ENV",
    "SERVICE_NAME_ENV",
]

OTLP_ENDPOINT_ENV = "TWINRAIL_OTLP_ENDPOINT"
SERVICE_NAME_ENV = "TWINRAIL_SERVICE_NAME"

_configured = False


def tracer(name: str) -> Tracer:
    """A tracer for module `name`; it follows whichever provider is installed later."""
    return trace.get_tracer(name)


def configure_tracing(
    endpoint: str | None = None, *, service_name: str | None = None
) -> trace.TracerProvider | None:
    """Export spans over OTLP/HTTP to `endpoint` (default `TWINRAIL_OTLP_ENDPOINT`).

    Without an endpoint nothing is installed and spans stay no-ops. Installs at most once per
    process (OpenTelemetry's global provider cannot be replaced).
    """
    global _configured
    endpoint = endpoint or os.environ.get(OTLP_ENDPOINT_ENV, "")
    if not endpoint or _configured:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = service_name or os.environ.get(SERVICE_NAME_ENV, "twinrail")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    _configured = True
    return provider
