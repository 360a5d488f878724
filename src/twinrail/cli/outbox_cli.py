"""`twinrail outbox ...`: relay events from the outbox to the bus, and inspect it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from twinrail.cli.output import JsonOption, console, err_console, print_json
from twinrail.platform.bus import BusError, InProcessBus, bus_from_url
from twinrail.platform.db import create_db_engine
from twinrail.platform.migrate import upgrade
from twinrail.platform.relay import OutboxRelay, outbox_backlog
from twinrail.settings import get_settings

__all__ = ["app"]

app = typer.Typer(help="The transactional outbox and its relay.", no_args_is_help=True)


@app.command()
def relay(
    once: bool = typer.Option(False, "--once", help="Publish what is waiting now, then exit."),
    interval: float = typer.Option(0.5, help="Seconds between polls when the outbox is empty."),
    batch_size: int = typer.Option(500, help="Messages per publish and mark."),
) -> None:
    """Publish outbox rows to the configured bus (TWINRAIL_BUS_URL), until Ctrl-C."""
    settings = get_settings()
    with _infrastructure_errors(), _engine() as engine:
        with bus_from_url(settings.bus_url, settings.bus_stream) as bus:
            if isinstance(bus, InProcessBus):
                err_console.print(
                    "[yellow]note[/]: the in-process bus delivers only inside this process, "
                    "which has no subscribers; run the relay in the worker to feed consumers."
                )
            outbox_relay = OutboxRelay(engine, bus, batch_size)
            if once:
                _relay_once(outbox_relay)
            else:
                _relay_until_stopped(outbox_relay, interval, settings.bus_url)


@app.command()
def status(as_json: bool = JsonOption) -> None:
    """How many outbox rows wait for the relay, and how old the oldest is."""
    with _infrastructure_errors(), _engine() as engine:
        backlog = outbox_backlog(engine)
    if as_json:
        print_json(backlog.as_dict())
        return
    age = backlog.oldest_age_seconds
    console.print(f"unpublished: [bold]{backlog.unpublished}[/]")
    console.print(f"oldest unpublished: {'-' if age is None else f'{age:.1f}s ago'}")


def _relay_once(outbox_relay: OutboxRelay) -> None:
    total = 0
    try:
        while (published := outbox_relay.relay_once()) > 0:
            total += published
            if published < outbox_relay.batch_size:
                break
        if not outbox_relay.lease.held:
            err_console.print("another relay holds the lease; nothing published")
            return
    finally:
        outbox_relay.lease.release()
    console.print(f"published {total} message(s) ({outbox_relay.duplicates} already on the bus)")


def _relay_until_stopped(outbox_relay: OutboxRelay, interval: float, bus_url: str) -> None:
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        err_console.print(f"relaying to {bus_url}; Ctrl-C to stop")
        outbox_relay.run_forever(stop, interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    err_console.print("relay stopped")


@contextmanager
def _engine() -> Iterator[Engine]:
    engine = create_db_engine(get_settings().resolved_database_url())
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _infrastructure_errors() -> Iterator[None]:
    """The database or the bus is unreachable: one readable line and exit code 2."""
    try:
        yield
    except BusError as exc:
        err_console.print(f"[bold red]error[/] [dim]bus.unavailable[/]: {exc}")
        raise typer.Exit(2) from None
    except DBAPIError as exc:
        err_console.print(f"[bold red]error[/] [dim]database.unavailable[/]: {exc.orig!r}")
        raise typer.Exit(2) from None
