"""Logs are JSON lines (or a console view on a terminal), carry the request id and tenant while
a request is served, and never show secrets or personal data."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from twinrail.api.domain.roles import Role
from twinrail.platform.logging import REDACTED, configure_logging, request_context

from ..api.conftest import make_app, new_caller


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Logging configured to write into a buffer; the previous configuration restored after."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    yield stream
    structlog.reset_defaults()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_pipe_gets_json_lines_from_structlog_and_from_standard_library_loggers(
    captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWINRAIL_LOG_FORMAT", raising=False)
    assert configure_logging(stream=captured) == "json"  # a StringIO is not a terminal
    structlog.get_logger("twinrail.test").info("order.completed", order_id="po_1")
    logging.getLogger("twinrail.relay").warning("relay failed %d times", 3)
    first, second = _lines(captured)
    assert first["event"] == "order.completed" and first["order_id"] == "po_1"
    assert first["level"] == "info" and first["timestamp"].endswith("Z")
    assert second["event"] == "relay failed 3 times" and second["level"] == "warning"
    assert second["logger"] == "twinrail.relay"


def test_the_format_can_be_chosen_by_environment(
    captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWINRAIL_LOG_FORMAT", "console")
    assert configure_logging(stream=captured) == "console"
    structlog.get_logger("t").info("hello", n=1)
    text = captured.getvalue()
    assert "hello" in text and "n=1" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_secrets_and_personal_data_are_redacted_at_any_depth(captured: io.StringIO) -> None:
    configure_logging(fmt="json", stream=captured)
    structlog.get_logger("t").info(
        "webhook.sent",
        authorization="Bearer eyJhbGciOi",
        client_secret="s3cr3t-value",
        endpoint={"url": "https://x.example/h", "signing_secret": "whsec_abc"},
        parties=[{"iban": "DE89370400440532013000", "name": "Ada Lovelace", "pin": "1234"}],
        order_id="po_7",
    )
    logging.getLogger("t").info("stdlib", extra={"password": "hunter2", "email": "a@b.c"})
    text = captured.getvalue()
    for secret in ("eyJhbGciOi", "s3cr3t-value", "whsec_abc", "DE89370400440532013000",
                   "Ada Lovelace", "1234", "hunter2", "a@b.c"):  # fmt: skip
        assert secret not in text
    line, stdlib = _lines(captured)
    assert line["order_id"] == "po_7" and line["endpoint"]["url"] == "https://x.example/h"
    assert line["authorization"] == REDACTED and line["parties"][0]["iban"] == REDACTED
    assert stdlib["password"] == REDACTED


def test_lines_written_while_serving_carry_the_request_id_and_the_tenant(
    captured: io.StringIO,
) -> None:
    configure_logging(fmt="json", stream=captured)
    token = request_context.set(
        {"request_id": "req_1", "principal": SimpleNamespace(client_id="cli_9")}
    )
    try:
        structlog.get_logger("t").info("inside")
        logging.getLogger("t").info("inside too")
    finally:
        request_context.reset(token)
    structlog.get_logger("t").info("outside")
    inside, inside_stdlib, outside = _lines(captured)
    assert (inside["request_id"], inside["tenant"]) == ("req_1", "cli_9")
    assert (inside_stdlib["request_id"], inside_stdlib["tenant"]) == ("req_1", "cli_9")
    assert "request_id" not in outside and "tenant" not in outside


def test_the_api_access_line_names_request_and_tenant_and_no_token_or_body(
    captured: io.StringIO, sqlite_engine: Engine
) -> None:
    with TestClient(make_app(sqlite_engine)) as client:
        caller = new_caller(client, Role.CLIENT)
        configure_logging(fmt="json", stream=captured)
        response = client.post(
            "/v1/customers",
            json={"kind": "individual", "name": "Private Person", "email": "pp@example.com"},
            headers={**caller.headers, "Idempotency-Key": uuid.uuid4().hex, "X-Request-ID": "r-9"},
        )
    assert response.status_code == 201
    access = [line for line in _lines(captured) if line["event"] == "http.request"]
    assert len(access) == 1
    assert access[0]["request_id"] == "r-9" and access[0]["tenant"] == caller.client_id
    assert access[0]["route"] == "/v1/customers" and access[0]["status"] == 201
    text = captured.getvalue()
    assert "Private Person" not in text and caller.token not in text
