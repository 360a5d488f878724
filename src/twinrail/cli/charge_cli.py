"""`twinrail chain charge ...`: payment requests (charges) with a fresh address and EIP-681 URI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from twinrail.cli.chain_cli import crypto_errors
from twinrail.cli.output import JsonOption, console, print_json
from twinrail.crypto.settings import CryptoSettings

if TYPE_CHECKING:
    from twinrail.crypto.domain.charges import Charge
    from twinrail.crypto.service.charges import ChargeService

__all__ = ["app"]

app = typer.Typer(help="Payment requests: an amount, an address, an expiry.", no_args_is_help=True)


def _service(with_keys: bool) -> ChargeService:
    from twinrail.bootstrap import bootstrap
    from twinrail.crypto.service.charges import ChargeService
    from twinrail.crypto.wiring import open_key_store
    from twinrail.settings import Settings

    settings = CryptoSettings()
    keys: Any = open_key_store(settings) if with_keys else None
    engine = bootstrap(Settings()).engine
    return ChargeService(engine, keys, settings.registry(), actor="cli")


def _data(charge: Charge) -> dict[str, Any]:
    return {
        "id": charge.id,
        "status": charge.status.value,
        "chain_id": charge.chain_id,
        "asset": charge.asset,
        "token": charge.token,
        "amount": str(charge.amount),
        "paid": str(charge.paid),
        "address": charge.address,
        "payment_uri": charge.uri,
        "account_id": charge.account_id,
        "reference": charge.reference,
        "created_at": charge.created_at.isoformat(),
        "expires_at": charge.expires_at.isoformat(),
    }


def _show(charge: Charge, json_out: bool) -> None:
    data = _data(charge)
    if json_out:
        print_json(data)
        return
    console.print(f"{charge.id} [bold]{charge.status.value}[/] {charge.asset} {charge.amount}")
    console.print(f"pay to {charge.address} until {data['expires_at']}")
    console.print(data["payment_uri"], soft_wrap=True)


@app.command("create")
@crypto_errors
def create(
    account: str = typer.Option(..., help="The merchant's ledger account credited."),
    amount: str = typer.Option(..., help="Amount in whole units, e.g. 12.50 (asset decimals)."),
    asset: str = typer.Option("ETH", help="ETH or a listed token symbol or contract address."),
    chain_id: int = typer.Option(None, help="Configured chain id (default: the first)."),
    expires_in: int = typer.Option(60, min=1, help="Minutes until the charge expires."),
    reference: str = typer.Option(None, help="Your own reference (an order id)."),
    json_out: bool = JsonOption,
) -> None:
    """Ask for a payment: a fresh address (its own key) and an EIP-681 payment URI."""
    import datetime as dt

    from twinrail.crypto.service.charges import CreateCharge

    chain = chain_id or CryptoSettings().default_chain().chain_id
    cmd = CreateCharge(account, chain, asset, amount, dt.timedelta(minutes=expires_in), reference)
    _show(_service(with_keys=True).create(cmd), json_out)


@app.command("show")
@crypto_errors
def show(charge_id: str = typer.Argument(...), json_out: bool = JsonOption) -> None:
    """One charge and its status."""
    _show(_service(with_keys=False).get(charge_id), json_out)


@app.command("list")
@crypto_errors
def list_charges(
    status: str = typer.Option(None, help="Only charges in this status."),
    limit: int = typer.Option(50, min=1, max=1000),
    json_out: bool = JsonOption,
) -> None:
    """Charges, newest first."""
    from twinrail.crypto.domain.charges import ChargeStatus

    wanted = ChargeStatus(status) if status else None
    found = _service(with_keys=False).charges(status=wanted, limit=limit)
    if json_out:
        print_json([_data(c) for c in found])
        return
    for c in found:
        console.print(f"{c.id} {c.status.value:<10} {c.asset} {c.amount} paid {c.paid}")
