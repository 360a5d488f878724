"""Shared command-line output: rich tables for people, `--json` for programs, readable errors."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from twinrail.ledger.domain.errors import LedgerError
from twinrail.platform.errors import TwinrailError

__all__ = [
    "console",
    "err_console",
    "print_json",
    "friendly_errors",
    "handled",
    "handled_errors",
    "JsonOption",
]

# Wide enough for ledger tables when piped (rich falls back to 80 columns off a terminal).
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")


def print_json(data: Any) -> None:
    """Write `data` as JSON on stdout (amounts are already strings; datetimes become ISO)."""
    sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn known errors into one readable line and exit code 1 (2 for infrastructure faults)."""
    try:
        yield
    except LedgerError as exc:
        err_console.print(f"[bold red]error[/] [dim]{exc.code}[/]: {exc.message}")
        for key, value in exc.context.items():
            err_console.print(f"  {key}: {value}")
        raise typer.Exit(2 if getattr(exc, "retryable", False) else 1) from None


def handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator form of `friendly_errors` for command functions."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with friendly_errors():
            return fn(*args, **kwargs)

    return wrapper


def handled_errors(
    error: type[TwinrailError], *, show_context: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: an `error` becomes one readable line and exit 1 (2 when retryable).

    With `show_context`, the error's context follows, one `key: value` line each; the message
    and values are escaped, so brackets in them print as they are.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except error as exc:
                err_console.print(f"[bold red]error[/] [dim]{exc.code}[/]: {escape(exc.message)}")
                if show_context:
                    for key, value in exc.context.items():
                        err_console.print(f"  {key}: {escape(str(value))}")
                raise typer.Exit(2 if exc.retryable else 1) from None

        return wrapper

    return decorate
