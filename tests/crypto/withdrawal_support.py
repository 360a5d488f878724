"""A withdrawal test rig on a real anvil: hot wallet funded with ETH and the project's token,
customers with ledger balances, and processors built the way a (restarted) worker builds them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select

from tests.crypto.watcher_support import chain_of, deploy_token, mint
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.chains import Chain, ChainRegistry, Token
from twinrail.crypto.domain.errors import NodeUnavailable
from twinrail.crypto.domain.fees import FeePolicy
from twinrail.crypto.domain.withdrawals import Withdrawal, WithdrawalRequest
from twinrail.crypto.service.addresses import AddressService
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner
from twinrail.crypto.service.withdrawal_processor import Probe, WithdrawalProcessor
from twinrail.crypto.service.withdrawals import WithdrawalService
from twinrail.ledger.domain.commands import DefineAsset, OpenAccount, PostTransfer
from twinrail.ledger.domain.model import Limits, Posting, Side
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.outbox import outbox

__all__ = [
    "ETH",
    "USDC",
    "PAYEE",
    "FlakyBroadcasts",
    "Rig",
    "make_rig",
    "open_customer",
    "processor_for",
    "transitions",
]

ETH = 10**18
USDC = 10**6
PAYEE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # anvil dev account #3: an outside payee
HOT_ETH = 10 * ETH


@dataclass
class Rig:
    engine: Engine
    ledger: LedgerService
    client: Web3ChainClient
    keys: KeyStore
    chain: Chain
    token: str
    hot: str
    service: WithdrawalService

    def request(
        self, wid: str, account: str, amount: int, *, asset: str = "ETH", to: str = PAYEE
    ) -> Withdrawal:
        return self.service.request(
            WithdrawalRequest(wid, account, self.chain.chain_id, asset, amount, to)
        )

    def mine(self, blocks: int = 1) -> None:
        self.client.request("anvil_mine", [hex(blocks)])


class FlakyBroadcasts(Web3ChainClient):
    """A real client whose broadcasts fail as if the node were down while `down` is set."""

    down = False

    def send_raw_transaction(self, raw: bytes) -> str:
        if self.down:
            raise NodeUnavailable("node did not answer (test)", rpc_url=self.rpc_url)
        return super().send_raw_transaction(raw)


def open_customer(ledger: LedgerService, owner: str, funds: dict[str, int]) -> None:
    """`<owner>-<asset>` accounts that cannot go below zero, funded from an equity account."""
    for asset, amount in funds.items():
        scale = 18 if asset == "ETH" else 6
        ledger.define_asset(DefineAsset(asset, scale))
        equity = f"test-equity-{asset}"
        ledger.open_account(OpenAccount(equity, asset, "equity", "equity", Side.DEBIT))
        account = f"{owner}-{asset}"
        ledger.open_account(
            OpenAccount(
                account,
                asset,
                "customer",
                f"{owner} {asset}",
                Side.CREDIT,
                limits=Limits(debits_must_not_exceed_credits=True),
            )
        )
        ledger.post_transfer(
            PostTransfer(
                f"fund-{account}",
                (
                    Posting(equity, Side.DEBIT, amount, asset),
                    Posting(account, Side.CREDIT, amount, asset),
                ),
            )
        )


def make_rig(
    engine: Engine,
    url: str,
    chain_id: int,
    keys: KeyStore,
    *,
    confirmations: int = 2,
    hot_usdc: int = 1_000 * USDC,
    clock: Clock = utc_now,
) -> Rig:
    client = Web3ChainClient(url, timeout_s=10)
    token = deploy_token(client)
    chain = chain_of(url, chain_id, tokens=(Token("USDC", token, 6),), confirmations=confirmations)
    ledger = LedgerService(engine, clock=clock)
    hot = AddressService(engine, keys).hot_wallet(chain_id).address
    client.request("anvil_setBalance", [hot, hex(HOT_ETH)])
    if hot_usdc:
        mint(client, token, hot, hot_usdc)
    service = WithdrawalService(engine, ledger, ChainRegistry([chain]), clock=clock)
    return Rig(engine, ledger, client, keys, chain, token, hot, service)


def processor_for(
    rig: Rig,
    *,
    policy: FeePolicy | None = None,
    probe: Probe | None = None,
    clock: Clock = utc_now,
    stuck_after: dt.timedelta = dt.timedelta(minutes=2),
    client: Web3ChainClient | None = None,
) -> WithdrawalProcessor:
    """Built afresh, as a (restarted) worker process would."""
    return WithdrawalProcessor(
        rig.engine,
        LedgerService(rig.engine, clock=clock),
        rig.chain,
        client or Web3ChainClient(rig.chain.rpc_url, timeout_s=10),
        TransactionSigner(rig.keys),
        rig.hot,
        policy=policy,
        probe=probe,
        clock=clock,
        stuck_after=stuck_after,
    )


def transitions(engine: Engine, withdrawal_id: str) -> list[str]:
    """The statuses the withdrawal moved to, as its outbox events tell them, in order."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.payload)
            .where(outbox.c.topic == "crypto.withdrawal_transitioned")
            .order_by(outbox.c.id)
        ).all()
    return [r.payload["to"] for r in rows if r.payload["withdrawal_id"] == withdrawal_id]
