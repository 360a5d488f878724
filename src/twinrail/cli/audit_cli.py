"""`twinrail audit ...`: seal and verify the hash-chained audit trail."""

from __future__ import annotations

import typer

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
