"""Sweeps on a real anvil: gas top-up first, token to the hot wallet, fees booked, restart-safe."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select

from tests.conftest import ManualClock
from tests.crypto.watcher_support import (
    account_for,
    chain_of,
    deploy_token,
    mine,
    mint,
    open_customer_accounts,
)
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain import erc20
from twinrail.crypto.domain.chains import Chain, Token
from twinrail.crypto.domain.deposits import DepositStatus
from twinrail.crypto.domain.fees import FeePolicy
from twinrail.crypto.domain.nonces import NonceReservation
from twinrail.crypto.domain.sweeps import Sweep, SweepStatus, top_up_needed
from twinrail.crypto.domain.transactions import Receipt
from twinrail.crypto.service.addresses import AddressService
from twinrail.crypto.service.deposit_books import clearing_account_id
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.crypto.service.fees import FeeEstimator
from twinrail.crypto.service.nonces import NonceManager
from twinrail.crypto.service.outgoing import OutgoingTransactions
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner
from twinrail.crypto.service.sweeps import Sweeper
from twinrail.crypto.service.transfers import TransactionSender
from twinrail.crypto.service.withdrawal_books import (
    HOT_WALLET,
    NETWORK_FEES,
    hot_wallet_account_id,
    network_fees_account_id,
    open_chain_account,
)
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.clock import utc_now
from twinrail.platform.outbox import outbox
from twinrail.sandbox.anvil import AnvilNode

USDC = 10**6
ETH = 10**18


class Crash(Exception):
    """A kill -9 at a chosen point: nothing after it runs."""


class CrashingOutgoing(OutgoingTransactions):
    """Dies once, at `point`, for the transaction whose ref starts with `ref_prefix`."""

    def __init__(self, *args: object, point: str, ref_prefix: str, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.point, self.prefix, self.refs = point, ref_prefix, {}  # type: ignore[var-annotated]
        self.crashed = False

    def prepare(self, ref: str, sender: str, to: str | None, **kw: object) -> NonceReservation:
        reservation = super().prepare(ref, sender, to, **kw)  # type: ignore[arg-type]
        self.refs[reservation.tx_hash] = ref
        return reservation

    def _maybe_crash(self, point: str, tx_hash: str | None) -> None:
        if (
            not self.crashed
            and point == self.point
            and self.refs.get(tx_hash, "").startswith(self.prefix)
        ):
            self.crashed = True
            raise Crash(point)

    def broadcast(self, reservation: NonceReservation) -> NonceReservation:
        self._maybe_crash("before_broadcast", reservation.tx_hash)
        return super().broadcast(reservation)

    def confirm(self, reservation: NonceReservation, *, timeout_s: float = 30.0) -> Receipt:
        self._maybe_crash("after_broadcast", reservation.tx_hash)
        return super().confirm(reservation, timeout_s=timeout_s)


@dataclass
class Rig:
    engine: Engine
    ledger: LedgerService
    client: Web3ChainClient
    chain: Chain
    token: Token
    keys: KeyStore
    hot: str
    alice: str

    def sweeper(
        self, threshold: int = 10 * USDC, clock: ManualClock | None = None, **crash: str
    ) -> Sweeper:
        now = clock or utc_now
        fees = FeeEstimator(self.client, FeePolicy(), chain_id=31337)
        sender = TransactionSender(
            self.client, TransactionSigner(self.keys), chain_id=31337, fees=fees
        )
        nonces = NonceManager(self.engine, clock=now)
        outgoing = (
            CrashingOutgoing(self.client, sender, nonces, chain_id=31337, **crash)
            if crash
            else OutgoingTransactions(self.client, sender, nonces, chain_id=31337)
        )
        return Sweeper(
            self.engine, self.ledger, self.chain, self.client, sender, outgoing,
            hot_wallet=self.hot, thresholds={"USDC": threshold}, confirm_timeout_s=10, clock=now,
        )  # fmt: skip

    def usdc(self, owner: str) -> int:
        data = self.client.call(self.token.address, erc20.encode_balance_of(owner))
        return erc20.decode_uint(data)

    def fee_of(self, tx_hash: str | None) -> int:
        receipt = self.client.receipt(tx_hash or "")
        assert receipt is not None
        return receipt.gas_used * receipt.effective_gas_price


@pytest.fixture
def rig(engine: Engine, ledger: LedgerService, anvil: AnvilNode, software_store: KeyStore) -> Rig:
    client = Web3ChainClient(anvil.url, timeout_s=5)
    token = Token("USDC", deploy_token(client), 6)
    addresses = AddressService(engine, software_store)
    hot = addresses.hot_wallet(31337).address
    client.request("anvil_setBalance", [hot, hex(10 * ETH)])
    alice = addresses.deposit_address("alice").address
    chain = chain_of(anvil.url, 31337, tokens=(token,), confirmations=1)
    return Rig(engine, ledger, client, chain, token, software_store, hot, alice)


def test_a_balance_above_the_threshold_is_swept_after_a_gas_top_up_and_the_gas_is_booked(
    rig: Rig,
) -> None:
    mint(rig.client, rig.token.address, rig.alice, 25 * USDC)
    assert rig.client.balance(rig.alice) == 0
    sweeper = rig.sweeper()
    assert sweeper.run_once() == 1
    assert (rig.usdc(rig.alice), rig.usdc(rig.hot)) == (0, 25 * USDC)
    [sweep] = sweeper.sweeps()
    assert sweep.status is SweepStatus.DONE and sweep.amount == 25 * USDC
    assert sweep.top_up_wei > 0 and sweep.top_up_tx and sweep.sweep_tx
    fee = rig.fee_of(sweep.top_up_tx) + rig.fee_of(sweep.sweep_tx)
    assert sweep.fee_wei == fee
    # what is left of the top-up stays on the deposit address: ours, not the customer's
    assert rig.client.balance(rig.alice) == sweep.top_up_wei - rig.fee_of(sweep.sweep_tx)
    assert rig.ledger.balance(network_fees_account_id(31337, "ETH")).posted == fee
    # our own asset accounts follow the chain: the hot wallet's and the deposit side's
    assert rig.ledger.balance(hot_wallet_account_id(31337, "USDC")).posted == 25 * USDC
    assert rig.ledger.balance(clearing_account_id(31337, "USDC")).posted == -25 * USDC
    assert rig.ledger.balance(clearing_account_id(31337, "ETH")).posted == rig.client.balance(
        rig.alice
    )
    assert rig.ledger.balance(hot_wallet_account_id(31337, "ETH")).posted == -(
        sweep.top_up_wei + rig.fee_of(sweep.top_up_tx)
    )
    with rig.engine.connect() as conn:
        topics = list(conn.execute(select(outbox.c.topic)).scalars())
    assert topics.count("crypto.sweep_finished") == 1
    assert sweeper.run_once() == 0  # nothing left to sweep


def test_a_sweep_books_into_hot_wallet_accounts_a_withdrawal_opened_first(rig: Rig) -> None:
    # opened as the withdrawal books open them: the sweeper must describe them the same way
    for asset, decimals in (("USDC", 6), ("ETH", 18)):
        open_chain_account(
            rig.ledger, 31337, hot_wallet_account_id(31337, asset), asset, decimals, HOT_WALLET
        )
    open_chain_account(
        rig.ledger, 31337, network_fees_account_id(31337, "ETH"), "ETH", 18, NETWORK_FEES
    )
    mint(rig.client, rig.token.address, rig.alice, 25 * USDC)
    assert rig.sweeper().run_once() == 1
    assert rig.ledger.balance(hot_wallet_account_id(31337, "USDC")).posted == 25 * USDC


def test_a_balance_below_the_threshold_stays_where_it_is(rig: Rig) -> None:
    mint(rig.client, rig.token.address, rig.alice, 9 * USDC)
    sweeper = rig.sweeper(threshold=10 * USDC)
    assert sweeper.run_once() == 0
    assert sweeper.sweeps() == []
    assert rig.usdc(rig.alice) == 9 * USDC


def test_an_address_that_already_holds_enough_gas_gets_no_top_up(rig: Rig) -> None:
    rig.client.request("anvil_setBalance", [rig.alice, hex(ETH)])
    mint(rig.client, rig.token.address, rig.alice, 12 * USDC)
    sweeper = rig.sweeper()
    assert sweeper.run_once() == 1
    [sweep] = sweeper.sweeps()
    assert (sweep.top_up_wei, sweep.top_up_tx) == (0, None)
    assert rig.client.mined_nonce(rig.hot) == 0  # the hot wallet sent nothing
    assert rig.usdc(rig.hot) == 12 * USDC


@pytest.mark.parametrize(
    ("point", "ref_prefix"),
    [
        ("before_broadcast", "sweep-gas:"),
        ("after_broadcast", "sweep-gas:"),
        ("before_broadcast", "sweep:"),
        ("after_broadcast", "sweep:"),
    ],
)
def test_a_sweep_killed_at_any_point_resumes_with_the_same_transactions(
    rig: Rig, point: str, ref_prefix: str
) -> None:
    mint(rig.client, rig.token.address, rig.alice, 40 * USDC)
    with pytest.raises(Crash):
        rig.sweeper(point=point, ref_prefix=ref_prefix).run_once()
    [open_sweep] = rig.sweeper().sweeps()
    assert open_sweep.status in (SweepStatus.TOPPING_UP, SweepStatus.SWEEPING)
    restarted = rig.sweeper()
    assert restarted.run_once() == 1
    [sweep] = restarted.sweeps()
    assert sweep.id == open_sweep.id and sweep.status is SweepStatus.DONE
    assert rig.client.mined_nonce(rig.hot) == 1  # one top-up, never a second
    assert rig.client.mined_nonce(rig.alice) == 1  # one token transfer, never a second
    assert rig.usdc(rig.hot) == 40 * USDC
    fee = rig.fee_of(sweep.top_up_tx) + rig.fee_of(sweep.sweep_tx)
    assert rig.ledger.balance(network_fees_account_id(31337, "ETH")).posted == fee


def _blocks_held_back(rig: Rig, clock: ManualClock | None = None) -> Sweeper:
    """15 USDC on alice's address, automine off, and a sweeper that waits only briefly."""
    mint(rig.client, rig.token.address, rig.alice, 15 * USDC)
    rig.client.request("evm_setAutomine", [False])
    sweeper = rig.sweeper(clock=clock)
    sweeper._timeout = 0.2  # noqa: SLF001 - a short wait: the block will not come by itself
    return sweeper


def _blocks_let_through(rig: Rig, sweeper: Sweeper) -> Sweep:
    """Automine on again: the next round completes the one sweep, which it returns."""
    rig.client.request("evm_setAutomine", [True])
    mine(rig.client)
    sweeper._timeout = 10  # noqa: SLF001
    assert sweeper.run_once() == 1
    [done] = sweeper.sweeps()
    return done


def test_a_sweep_waiting_for_its_block_is_resumed_and_never_started_twice(rig: Rig) -> None:
    sweeper = _blocks_held_back(rig)
    assert sweeper.run_once() == 0
    assert sweeper.run_once() == 0
    [waiting] = sweeper.sweeps()
    assert waiting.status is SweepStatus.TOPPING_UP and waiting.top_up_tx
    done = _blocks_let_through(rig, sweeper)
    assert done.id == waiting.id and done.status is SweepStatus.DONE
    assert rig.client.mined_nonce(rig.hot) == 1
    assert rig.usdc(rig.hot) == 15 * USDC


def test_a_stuck_top_up_is_replaced_with_fees_10_percent_higher_and_the_replacement_lands(
    rig: Rig, clock: ManualClock
) -> None:
    sweeper = _blocks_held_back(rig, clock)
    assert sweeper.run_once() == 0
    clock.advance(minutes=1)
    assert sweeper.run_once() == 0  # not stuck yet: rebroadcast as it is
    assert len(NonceManager(rig.engine).attempts(31337, rig.hot, 0)) == 1
    clock.advance(minutes=2)
    assert sweeper.run_once() == 0  # stuck: replaced, and the block still does not come
    first, second = NonceManager(rig.engine).attempts(31337, rig.hot, 0)
    assert second.max_fee_per_gas * 100 >= first.max_fee_per_gas * 110
    assert second.max_priority_fee_per_gas * 100 >= first.max_priority_fee_per_gas * 110
    done = _blocks_let_through(rig, sweeper)
    assert done.top_up_tx == second.tx_hash and done.status is SweepStatus.DONE
    assert rig.client.mined_nonce(rig.hot) == 1


def test_the_watcher_does_not_credit_a_gas_top_up_as_a_customer_deposit(rig: Rig) -> None:
    open_customer_accounts(rig.ledger, ["alice"], {"USDC": 6, "ETH": 18})
    watcher = DepositWatcher(
        rig.engine, rig.ledger, rig.chain, rig.client, account_for=account_for, start_block=0
    )
    mint(rig.client, rig.token.address, rig.alice, 25 * USDC)
    assert rig.sweeper().run_once() == 1
    mine(rig.client, 2)
    watcher.run_once()
    assert rig.ledger.balance("alice-USDC").posted == 25 * USDC  # the deposit, credited once
    assert rig.ledger.balance("alice-ETH").posted == 0  # the top-up is ours, not hers
    assert watcher.ignored.internal_transfer == 1
    # the deposit side holds what the deposit address holds on chain: nothing left in USDC
    assert rig.ledger.balance(clearing_account_id(31337, "USDC")).posted == rig.usdc(rig.alice)
    assert rig.ledger.balance(hot_wallet_account_id(31337, "USDC")).posted == rig.usdc(rig.hot)
    assert [d.status for d in watcher.deposits()] == [DepositStatus.CREDITED]


def test_the_top_up_covers_the_worst_case_fee_with_headroom() -> None:
    assert top_up_needed(60_000, 10, 0, 150) == 900_000
    assert top_up_needed(60_000, 10, 900_000, 150) == 0
    assert top_up_needed(60_000, 10, 100_000, 100) == 500_000
    with pytest.raises(ValueError):
        top_up_needed(1, 1, 0, 99)
