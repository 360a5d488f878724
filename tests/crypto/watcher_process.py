"""A watcher in a process of its own, for the kill -9 test: `python -m tests.crypto.watcher_process
<database url> <rpc url> <token address>`. It watches until killed."""

from __future__ import annotations

import sys
import threading

from tests.crypto.watcher_support import account_for, chain_of
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.chains import Token
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.db import create_db_engine


def main(database_url: str, rpc_url: str, token: str) -> None:
    engine = create_db_engine(database_url)
    client = Web3ChainClient(rpc_url, timeout_s=5)
    chain = chain_of(rpc_url, 31337, tokens=(Token("USDC", token, 6),), confirmations=2)
    # small ranges: many commits, so the kills land between and inside them
    watcher = DepositWatcher(
        engine,
        LedgerService(engine),
        chain,
        client,
        account_for=account_for,
        start_block=0,
        max_range=2,
        max_blocks_per_pass=4,
    )
    print("watching", flush=True)  # noqa: T201 - the test waits for this line
    watcher.run_forever(threading.Event(), interval=0.02)


if __name__ == "__main__":
    main(*sys.argv[1:4])
