"""kill -9 of the watcher process at random moments, then restart: nothing twice, nothing missed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine

from tests.crypto.watcher_support import (
    account_for,
    chain_of,
    deploy_token,
    mine,
    mint,
    open_customer_accounts,
    register_deposit_address,
    send_eth,
)
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.chains import Token
from twinrail.crypto.domain.deposits import DepositStatus
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.sandbox.anvil import AnvilNode

REPO = Path(__file__).resolve().parents[2]


def _start(database: str, rpc_url: str, token: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.crypto.watcher_process", database, rpc_url, token],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "watching"
    return proc


def test_a_watcher_killed_at_random_moments_credits_every_deposit_exactly_once(
    sqlite_engine: Engine, anvil: AnvilNode
) -> None:
    engine = sqlite_engine
    database = str(engine.url)
    ledger = LedgerService(engine)
    owners = ["ann", "ben", "cat"]
    open_customer_accounts(ledger, owners, {"USDC": 6, "ETH": 18})
    addresses = {owner: register_deposit_address(engine, owner) for owner in owners}
    client = Web3ChainClient(anvil.url, timeout_s=5)
    token = deploy_token(client)
    expected = {f"{o}-{a}": 0 for o in owners for a in ("USDC", "ETH")}
    rng = random.Random(6)
    payments = 0

    for _ in range(5):
        proc = _start(database, anvil.url, token)
        deadline = time.monotonic() + rng.uniform(0.3, 1.2)
        while time.monotonic() < deadline:
            owner = rng.choice(owners)
            amount = rng.randint(1, 10**6)
            if rng.random() < 0.7:
                mint(client, token, addresses[owner], amount)
                expected[f"{owner}-USDC"] += amount
            else:
                send_eth(client, addresses[owner], amount)
                expected[f"{owner}-ETH"] += amount
            payments += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        assert proc.stdout is not None
        proc.stdout.close()

    mine(client, 3)  # every payment now has its confirmations
    chain = chain_of(anvil.url, 31337, tokens=(Token("USDC", token, 6),), confirmations=2)
    final = DepositWatcher(engine, ledger, chain, client, account_for=account_for, start_block=0)
    assert any(
        d.status is DepositStatus.CREDITED for d in final.deposits()
    )  # the killed ones worked
    while final.run_once():
        pass
    deposits = final.deposits()
    assert len(deposits) == payments
    assert {d.status for d in deposits} == {DepositStatus.CREDITED}
    for account, amount in expected.items():
        assert ledger.balance(account).posted == amount, account
    credits = sum(len(ledger.transfers_for_account(a, limit=1000).transfers) for a in expected)
    assert credits == payments
