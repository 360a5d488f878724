"""Shared command-line output: rich tables for people, `--json` for programs, readable errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from twinrail.ledger.domain.errors import LedgerError

__all__ = ["console", "err_console", "print_json", "friendly_errors", "JsonOption"]

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
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with friendly_errors():
            return fn(*args, **kwargs)

    return wrapper
