"""A withdrawal worker in a process of its own, for the kill -9 and two-process tests:
`python -m tests.crypto.withdrawal_process <database> <rpc url> <token> <key dir> <crash point>`.

It pays out until no withdrawal is open, then prints "done". With a crash point ("before_sign",
"signed" or "broadcast") it SIGKILLs itself the first time a withdrawal reaches that point.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from tests.crypto.conftest import FAST_SCRYPT_N, PASSPHRASE
from tests.crypto.watcher_support import chain_of
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.adapters.software_keystore import SoftwareKeyStore
from twinrail.crypto.domain.chains import Token
from twinrail.crypto.domain.withdrawals import Withdrawal
from twinrail.crypto.service.addresses import AddressService
from twinrail.crypto.service.signer import TransactionSigner
from twinrail.crypto.service.withdrawal_processor import WithdrawalProcessor
from twinrail.crypto.withdrawal_workers import has_open_withdrawals
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.db import create_db_engine

CHAIN_ID = 31337


def main(database_url: str, rpc_url: str, token: str, key_dir: str, crash_point: str) -> None:
    engine = create_db_engine(database_url)
    keys = SoftwareKeyStore(Path(key_dir), PASSPHRASE, scrypt_n=FAST_SCRYPT_N)
    chain = chain_of(rpc_url, CHAIN_ID, tokens=(Token("USDC", token, 6),), confirmations=1)
    hot = AddressService(engine, keys).hot_wallet(CHAIN_ID).address

    def probe(point: str, _w: Withdrawal) -> None:
        if point == crash_point:
            os.kill(os.getpid(), signal.SIGKILL)

    processor = WithdrawalProcessor(
        engine,
        LedgerService(engine),
        chain,
        Web3ChainClient(rpc_url, timeout_s=10),
        TransactionSigner(keys),
        hot,
        probe=probe,
    )
    print("started", flush=True)  # noqa: T201 - the test reads it
    deadline = time.monotonic() + 90
    while has_open_withdrawals(engine, CHAIN_ID) and time.monotonic() < deadline:
        processor.run_once()
        time.sleep(0.02)
    print("done", flush=True)  # noqa: T201


if __name__ == "__main__":
    main(*sys.argv[1:6])
