"""`twinrail outbox ...`: relay events from the outbox to the bus, and inspect it."""

from __future__ import annotations

import typer

app = typer.Typer(help="The transactional outbox and its relay.", no_args_is_help=True)
