"""Helpers for the watcher tests and benchmark: fund, mint and mine on anvil from its dev account.

anvil unlocks its dev accounts, so payments are sent with `eth_sendTransaction` (no key store in
the way of what is under test: the watcher). Deposit addresses are fresh keys.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from eth_account import Account
from sqlalchemy import Engine

from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.adapters.vyper_compiler import compile_contract
from twinrail.crypto.domain import erc20
from twinrail.crypto.domain.chains import Chain, FinalitySource, Token
from twinrail.crypto.domain.custody import AddressPurpose, CustodyAddress
from twinrail.crypto.store import custody_store
from twinrail.ledger.domain.commands import DefineAsset, OpenAccount
from twinrail.ledger.domain.model import Side
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.uow import UnitOfWork

__all__ = [
    "DEV",
    "deploy_token",
    "mint",
    "send_eth",
    "mine",
    "new_address",
    "register_deposit_address",
    "open_customer_accounts",
    "new_depositor",
    "chain_of",
    "account_for",
]

DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's first dev account (unlocked)


def _send(client: Web3ChainClient, tx: dict[str, Any]) -> str:
    tx_hash: str = client.request("eth_sendTransaction", [{"from": DEV, **tx}])
    return tx_hash


def deploy_token(client: Web3ChainClient, symbol: str = "USDC") -> str:
    """Deploy the project's StableToken from the dev account; returns its address."""
    code = erc20.encode_constructor(compile_contract("StableToken").bytecode, "Twin USD", symbol)
    tx_hash = _send(client, {"data": "0x" + code.hex(), "gas": hex(3_000_000)})
    receipt = client.wait_for_receipt(tx_hash, 10)
    assert receipt.contract_address is not None
    return receipt.contract_address


def _mined(client: Web3ChainClient, tx_hash: str, wait: bool) -> str:
    # anvil answers eth_sendTransaction before its block is readable: tests wait for it
    if wait:
        client.wait_for_receipt(tx_hash, 10)
    return tx_hash


def mint(
    client: Web3ChainClient, token: str, receiver: str, amount: int, *, wait: bool = True
) -> str:
    """Mint (a Transfer log from the zero address) to `receiver`; returns the tx hash."""
    data = erc20.encode_mint(receiver, amount)
    tx = _send(client, {"to": token, "data": "0x" + data.hex(), "gas": hex(100_000)})
    return _mined(client, tx, wait)


def send_eth(client: Web3ChainClient, receiver: str, wei: int, *, wait: bool = True) -> str:
    return _mined(client, _send(client, {"to": receiver, "value": hex(wei)}), wait)


def mine(client: Web3ChainClient, blocks: int = 1) -> None:
    client.request("anvil_mine", [hex(blocks)])


def new_address() -> str:
    return str(Account.create().address)


def register_deposit_address(engine: Engine, owner_ref: str, address: str | None = None) -> str:
    """Record a deposit address for `owner_ref` (the watcher needs no key, only the mapping)."""
    record = CustodyAddress(
        address=address or new_address(),
        purpose=AddressPurpose.DEPOSIT,
        owner_ref=owner_ref,
        chain_id=0,
        key_store="software",
        created_at=dt.datetime.now(dt.UTC),
    )
    with UnitOfWork(engine) as uow:
        custody_store.insert_address(uow.connection, record)
        uow.commit()
    return record.address


def account_for(owner_ref: str, asset: str) -> str:
    """The tests' chart: one ledger account per customer and asset."""
    return f"{owner_ref}-{asset}"


def open_customer_accounts(
    ledger: LedgerService, owners: list[str], assets: dict[str, int]
) -> None:
    for code, scale in assets.items():
        ledger.define_asset(DefineAsset(code, scale))
        for owner in owners:
            ledger.open_account(
                OpenAccount(
                    id=account_for(owner, code),
                    asset=code,
                    code="customer",
                    name=f"{owner} {code}",
                    normal_side=Side.CREDIT,
                )
            )


def chain_of(
    url: str,
    chain_id: int,
    *,
    tokens: tuple[Token, ...] = (),
    confirmations: int = 3,
    finality: FinalitySource = FinalitySource.DEPTH,
) -> Chain:
    return Chain(
        chain_id=chain_id,
        name=f"anvil-{chain_id}",
        rpc_url=url,
        confirmations=confirmations,
        finality=finality,
        tokens=tokens,
        rpc_timeout_s=5.0,
    )


def new_depositor(engine: Engine, ledger: LedgerService, owner: str, assets: dict[str, int]) -> str:
    """Open `owner`'s ledger accounts in `assets` and record a fresh deposit address for it."""
    open_customer_accounts(ledger, [owner], assets)
    return register_deposit_address(engine, owner)
