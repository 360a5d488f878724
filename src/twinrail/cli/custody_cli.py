"""`twinrail custody ...`: the HSM token and the keys in the configured key store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from twinrail.cli.chain_cli import crypto_errors
from twinrail.cli.output import JsonOption, console, print_json
from twinrail.crypto.settings import CryptoSettings

if TYPE_CHECKING:
    from twinrail.crypto.domain.custody import CustodyAddress
    from twinrail.crypto.service.addresses import AddressService
    from twinrail.crypto.service.ports import KeyStore

__all__ = ["app"]

app = typer.Typer(help="Custody: HSM token and keys.", no_args_is_help=True)


@app.command("init")
@crypto_errors
def init(json_out: bool = JsonOption) -> None:
    """Create a project-local SoftHSM2 (config + token dir) and initialise the token.

    PINs come from TWINRAIL_CRYPTO_HSM_PIN / TWINRAIL_CRYPTO_HSM_SO_PIN and are never printed.
    """
    from twinrail.crypto.adapters.softhsm import SoftHsm

    settings = CryptoSettings()
    hsm = SoftHsm(settings.resolved_softhsm_dir())
    created = hsm.init_token(
        settings.hsm_token_label,
        so_pin=settings.hsm_so_pin.get_secret_value(),
        user_pin=settings.hsm_pin.get_secret_value(),
    )
    result = {
        "token": settings.hsm_token_label,
        "created": created,
        "softhsm2_conf": str(hsm.config_path.resolve()),
    }
    if json_out:
        print_json(result)
        return
    state = "initialised" if created else "already initialised"
    console.print(f"token {settings.hsm_token_label!r} {state}")
    console.print(f"SOFTHSM2_CONF={result['softhsm2_conf']}")


@app.command("new-key")
@crypto_errors
def new_key(json_out: bool = JsonOption) -> None:
    """Generate a key in the configured key store and print its address."""
    from twinrail.crypto.wiring import open_key_store

    keys = open_key_store(CryptoSettings())
    try:
        address = keys.create_key()
    finally:
        keys.close()
    if json_out:
        print_json({"address": address, "key_store": keys.kind})
    else:
        console.print(address)


@app.command("keys")
@crypto_errors
def list_keys(json_out: bool = JsonOption) -> None:
    """The addresses the configured key store holds keys for."""
    from twinrail.crypto.wiring import open_key_store

    keys = open_key_store(CryptoSettings())
    try:
        addresses = keys.addresses()
    finally:
        keys.close()
    if json_out:
        print_json({"key_store": keys.kind, "addresses": addresses})
        return
    for address in addresses:
        console.print(address)


def _addresses() -> tuple[AddressService, KeyStore]:
    from twinrail.bootstrap import bootstrap
    from twinrail.crypto.service.addresses import AddressService
    from twinrail.crypto.wiring import open_key_store
    from twinrail.settings import Settings

    keys = open_key_store(CryptoSettings())
    return AddressService(bootstrap(Settings()).engine, keys, actor="cli"), keys


@app.command("deposit-address")
@crypto_errors
def deposit_address(
    account_id: str = typer.Argument(..., help="The customer's ledger account id."),
    json_out: bool = JsonOption,
) -> None:
    """The account's deposit address, created (a new key in the key store) on first ask."""
    service, keys = _addresses()
    try:
        record = service.deposit_address(account_id)
    finally:
        keys.close()
    _show(record, json_out)


@app.command("hot-wallet")
@crypto_errors
def hot_wallet(
    chain_id: int = typer.Option(..., help="The chain the hot wallet pays out on."),
    json_out: bool = JsonOption,
) -> None:
    """The chain's hot wallet address, created on first ask."""
    service, keys = _addresses()
    try:
        record = service.hot_wallet(chain_id)
    finally:
        keys.close()
    _show(record, json_out)


def _show(record: CustodyAddress, json_out: bool) -> None:
    from dataclasses import asdict

    data = asdict(record)
    data["purpose"] = str(data["purpose"])
    if json_out:
        print_json(data)
    else:
        console.print(f"{data['address']} ({data['purpose']} for {data['owner_ref']})")
