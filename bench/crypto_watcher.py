"""Chain watcher throughput on a real anvil, into a real ledger database.

Prints one JSON line:
  watcher_blocks_per_s     blocks read and recorded per second (native + Transfer logs, headers,
                           deposits and checkpoint committed per range), blocks of
                           `--transfers` token transfers each, all to our deposit addresses,
                           with nothing final yet (no crediting in this figure)
  deposits_credited_per_s  end to end on a fresh database: read, record, wait for nothing (the
                           blocks are already confirmed), credit into the ledger and mark credited
  blocks, transfers_per_block, deposits, database

`bench/crypto.py` runs this measurement too (via `measure_watcher`), beside the signing figures;
this file stays runnable alone for watcher-only runs. Usage:
  python bench/crypto_watcher.py --blocks 20 --transfers 100 [--database-url postgresql://...]
Without --database-url each phase uses a fresh SQLite file (WAL) in a temporary directory; with a
PostgreSQL admin URL each phase creates and drops a database of its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth_account import Account
from sqlalchemy import Engine, create_engine, text

from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.adapters.vyper_compiler import compile_contract
from twinrail.crypto.domain import erc20
from twinrail.crypto.domain.chains import Chain, Token
from twinrail.crypto.domain.custody import AddressPurpose, CustodyAddress
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.crypto.store import custody_store
from twinrail.ledger.domain.commands import DefineAsset, OpenAccount
from twinrail.ledger.domain.model import Side
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.db import create_db_engine, normalise_url
from twinrail.platform.migrate import upgrade
from twinrail.platform.uow import UnitOfWork
from twinrail.sandbox.anvil import AnvilNode

DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _send(client: Web3ChainClient, tx: dict[str, str]) -> str:
    tx_hash: str = client.request("eth_sendTransaction", [{"from": DEV, **tx}])
    return tx_hash


def _build_chain(
    client: Web3ChainClient, blocks: int, per_block: int
) -> tuple[str, list[str], int]:
    code = erc20.encode_constructor(compile_contract("StableToken").bytecode, "Twin USD", "USDC")
    receipt = client.wait_for_receipt(_send(client, {"data": "0x" + code.hex()}), 10)
    assert receipt.contract_address is not None
    token = receipt.contract_address
    first = receipt.block_number + 1
    receivers = [str(Account.create().address) for _ in range(per_block)]
    client.request("evm_setAutomine", [False])
    for _ in range(blocks):
        for receiver in receivers:
            data = erc20.encode_mint(receiver, 1_000_000)
            _send(client, {"to": token, "data": "0x" + data.hex(), "gas": hex(100_000)})
        client.request("evm_mine", [])
    client.request("evm_setAutomine", [True])
    client.request("anvil_mine", [hex(3)])
    return token, receivers, first


@contextmanager
def _database(admin_url: str | None, workdir: Path) -> Iterator[Engine]:
    if admin_url is None:
        engine = create_db_engine(f"sqlite:///{workdir}/{uuid.uuid4().hex}.db")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    name = f"twinrail_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_db_engine(normalise_url(admin_url).rsplit("/", 1)[0] + f"/{name}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepare(engine: Engine, receivers: list[str]) -> LedgerService:
    ledger = LedgerService(engine)
    ledger.define_asset(DefineAsset("USDC", 6))
    with UnitOfWork(engine) as uow:
        for i, address in enumerate(receivers):
            custody_store.insert_address(
                uow.connection,
                CustodyAddress(
                    address,
                    AddressPurpose.DEPOSIT,
                    f"cust-{i}",
                    0,
                    "software",
                    dt.datetime.now(dt.UTC),
                ),
            )
        uow.commit()
    for i in range(len(receivers)):
        ledger.open_account(OpenAccount(f"cust-{i}", "USDC", "customer", f"cust {i}", Side.CREDIT))
    return ledger


def _watcher(
    engine: Engine,
    ledger: LedgerService,
    client: Web3ChainClient,
    token: str,
    *,
    confirmations: int,
    first: int,
    max_blocks_per_pass: int = 1000,
) -> DepositWatcher:
    chain = Chain(
        chain_id=31337,
        name="anvil",
        rpc_url=client.rpc_url,
        confirmations=confirmations,
        tokens=(Token("USDC", token, 6),),
    )
    return DepositWatcher(
        engine,
        ledger,
        chain,
        client,
        start_block=first,
        max_range=50,
        max_blocks_per_pass=max_blocks_per_pass,
        keep_blocks=confirmations + 256,
    )


def measure_watcher(
    blocks: int = 20, transfers: int = 100, database_url: str | None = None
) -> dict[str, object]:
    """Build `blocks` blocks of `transfers` token transfers on a fresh anvil, then time the watcher
    reading them (no crediting) and, on a second fresh database, crediting them end to end."""
    with AnvilNode(chain_id=31337) as node, tempfile.TemporaryDirectory() as tmp:
        client = Web3ChainClient(node.url, timeout_s=30)
        token, receivers, first = _build_chain(client, blocks, transfers)
        head = client.block_number()

        with _database(database_url, Path(tmp)) as engine:
            ledger = _prepare(engine, receivers)
            reading = _watcher(
                engine,
                ledger,
                client,
                token,
                confirmations=head + 10,
                first=first,
                max_blocks_per_pass=blocks,
            )
            start = time.perf_counter()
            blocks_read = reading.run_once()  # exactly the minting blocks, not the empty ones
            read_s = time.perf_counter() - start

        with _database(database_url, Path(tmp)) as engine:
            ledger = _prepare(engine, receivers)
            crediting = _watcher(engine, ledger, client, token, confirmations=1, first=first)
            start = time.perf_counter()
            while crediting.run_once():
                pass
            credit_s = time.perf_counter() - start
            credited = crediting.stats.deposits_credited

    deposits = blocks * transfers
    if credited != deposits:
        raise RuntimeError(f"credited {credited} deposits, expected {deposits}")
    return {
        "watcher_blocks_per_s": round(blocks_read / read_s, 1),
        "deposits_credited_per_s": round(credited / credit_s, 1),
        "blocks": blocks_read,
        "transfers_per_block": transfers,
        "deposits": deposits,
        "database": "postgresql" if database_url else "sqlite",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--transfers", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="PostgreSQL admin URL")
    args = parser.parse_args()
    print(json.dumps(measure_watcher(args.blocks, args.transfers, args.database_url)))


if __name__ == "__main__":
    main()
