"""`twinrail ledger ...`: accounts, transfers, holds, balances, statements, rebuild, export."""

from __future__ import annotations

import typer

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
