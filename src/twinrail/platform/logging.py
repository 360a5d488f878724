"""Logging, configured once per process: structlog JSON lines, or a console view on a terminal.

`TWINRAIL_LOG_FORMAT` chooses `json` or `console`; unset, a terminal gets the console view and
anything else (a file, a pipe, a log shipper) JSON lines. Standard-library loggers (uvicorn, the
relay, the sender) go through the same processors, so every line has one shape.

Every line written while an HTTP request is served carries its `request_id` and `tenant` (the
caller's client id): the API middleware puts the request's state mapping in a context variable,
and `add_request_context` reads it when the line is written. The mapping is shared by reference,
so a tenant that authentication finds later, in a worker thread, still shows up; the cost per
request is one context-variable set.

Secrets and personal data never reach the output: `redact_sensitive` replaces the values of known
sensitive keys, at any depth, before rendering.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from typing import IO, Any, TextIO, cast

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = [
    "configure_logging",
    "redact_sensitive",
    "add_request_context",
    "request_context",
    "is_sensitive",
    "REDACTED",
]

REDACTED = "[redacted]"

# A key is sensitive when it contains one of these (credentials of any kind) ...
_SENSITIVE_PARTS = (
    "authorization", "password", "passwd", "secret", "token", "api_key", "apikey",
    "private_key", "cookie", "credential", "signature",
)  # fmt: skip
# ... or is exactly one of these (personal data and short secrets).
_SENSITIVE_KEYS = frozenset({
    "pin", "otp", "tan", "iban", "bban", "pan", "cvv", "name", "first_name", "last_name",
    "full_name", "email", "phone", "address", "date_of_birth", "birth_date", "tax_id",
    "national_id", "debtor_name", "creditor_name", "account_holder",
})  # fmt: skip
_SAFE_KEYS = frozenset({"event", "logger", "level", "timestamp", "token_ttl_seconds"})

# The request being served: the scope's `state` dict (request id, principal), set by the API.
request_context: ContextVar[Mapping[str, Any] | None] = ContextVar(
    "twinrail_request_context", default=None
)


@functools.lru_cache(maxsize=4096)  # log keys are few; this runs for each key of each line
def is_sensitive(key: str) -> bool:
    """Whether a value logged under `key` must be redacted."""
    lowered = key.lower().replace("-", "_")
    if lowered in _SAFE_KEYS:
        return False
    return lowered in _SENSITIVE_KEYS or any(part in lowered for part in _SENSITIVE_PARTS)


def _redacted(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return value
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and is_sensitive(k) else _redacted(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redacted(v, depth + 1) for v in value]
    return value


def redact_sensitive(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Replace the values of sensitive keys (credentials, personal data) at any depth."""
    for key in list(event_dict):
        value = event_dict[key]
        if is_sensitive(key):
            event_dict[key] = REDACTED
        elif isinstance(value, dict | list | tuple):  # concrete types: an ABC check costs more
            event_dict[key] = _redacted(value)
    return event_dict


def add_request_context(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Add the current request's id and tenant (client id), when a request is being served."""
    state = request_context.get()
    if state is not None:
        event_dict.setdefault("request_id", state.get("request_id"))
        tenant = getattr(state.get("principal"), "client_id", None)
        if tenant is not None:
            event_dict.setdefault("tenant", tenant)
    return event_dict


def _drop_color_message(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    event_dict.pop("color_message", None)  # uvicorn's duplicate of the message, with ANSI codes
    return event_dict


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's plain writer, with the name `add_logger_name` reports."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: TextIO) -> None:
        self.file = file

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        return _NamedWriteLogger(self.file, str(args[0]) if args else "")


def _chosen_format(fmt: str | None, stream: IO[str]) -> str:
    chosen = (fmt or os.environ.get("TWINRAIL_LOG_FORMAT", "")).strip().lower()
    if chosen in ("json", "console"):
        return chosen
    return "console" if stream.isatty() else "json"


def configure_logging(
    *, fmt: str | None = None, level: str | None = None, stream: IO[str] | None = None
) -> str:
    """Configure structlog and the standard library for this process; returns the format used.

    Safe to call again (tests, a CLI that re-configures): the last call wins.
    """
    stream = stream or sys.stderr
    chosen = _chosen_format(fmt, stream)
    level_name = (level or os.environ.get("TWINRAIL_LOG_LEVEL") or "INFO").upper()
    numeric = logging.getLevelNamesMapping().get(level_name, logging.INFO)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_color_message,
        redact_sensitive,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if chosen == "json"
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    exceptions: list[Processor] = [structlog.processors.format_exc_info] if chosen == "json" else []
    # structlog's own lines skip the standard library (a filtering logger writing straight to
    # the stream): an access line per request must stay cheap.
    structlog.configure(
        processors=[*shared, *exceptions, renderer],
        logger_factory=_NamedWriteLoggerFactory(cast(TextIO, stream)),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=False,  # so that a later configure (tests) still applies
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *exceptions,
                    renderer],
    )  # fmt: skip
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    # twinrail's own access line replaces uvicorn's, which would log the query string; httpx
    # logs every request's URL at INFO, and a webhook URL may carry a client's token.
    for noisy in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return chosen
