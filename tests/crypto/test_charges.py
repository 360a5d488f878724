"""Payment requests against a real anvil: every status, partial payments, ledger credits, events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
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
    send_eth,
)
from twinrail.audit.store.tables import audit_entries
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.chains import ChainRegistry, Token
from twinrail.crypto.domain.charges import ChargeStatus
from twinrail.crypto.domain.errors import InvalidAmount, UnknownChain, UnknownCharge, UnknownToken
from twinrail.crypto.service.charges import (
    ChargeAccounts,
    ChargeBook,
    ChargeService,
    CreateCharge,
)
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.crypto.service.ports import KeyStore
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.outbox import outbox
from twinrail.sandbox.anvil import AnvilNode

USDC = 10**6


@dataclass
class Rig:
    client: Web3ChainClient
    token: Token
    charges: ChargeService
    watcher: DepositWatcher
    ledger: LedgerService
    clock: ManualClock
    engine: Engine

    def create(self, amount: str, asset: str = "USDC", minutes: int = 15) -> str:
        cmd = CreateCharge("shop-" + asset, 31337, asset, amount, dt.timedelta(minutes=minutes))
        return self.charges.create(cmd).id

    def pay(self, charge_id: str, amount: int) -> None:
        charge = self.charges.get(charge_id)
        if charge.token is None:
            send_eth(self.client, charge.address, amount)
        else:
            mint(self.client, charge.token, charge.address, amount)

    def settle(self) -> None:
        """Read the payment (seen), then bury it under enough blocks to be credited."""
        self.watcher.run_once()
        mine(self.client, 2)
        self.watcher.run_once()

    def status(self, charge_id: str) -> ChargeStatus:
        return self.charges.get(charge_id).status


@pytest.fixture
def rig(
    engine: Engine, ledger: LedgerService, clock: ManualClock, anvil: AnvilNode,
    software_store: KeyStore,
) -> Iterator[Rig]:  # fmt: skip
    client = Web3ChainClient(anvil.url, timeout_s=5)
    token = Token("USDC", deploy_token(client), 6)
    chain = chain_of(anvil.url, 31337, tokens=(token,), confirmations=2)
    open_customer_accounts(ledger, ["shop"], {"USDC": 6, "ETH": 18})
    charges = ChargeService(engine, software_store, ChainRegistry([chain]), clock=clock)
    watcher = DepositWatcher(
        engine, ledger, chain, client,
        account_for=ChargeAccounts(engine, account_for), start_block=0, clock=clock,
        hooks=(ChargeBook(clock=clock),),
    )  # fmt: skip
    yield Rig(client, token, charges, watcher, ledger, clock, engine)


def _topics(engine: Engine, charge_id: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.topic)
            .where(outbox.c.stream_id == f"crypto-charge-{charge_id}")
            .order_by(outbox.c.id)
        )
        return list(rows.scalars())


def test_a_token_charge_paid_exactly_goes_new_pending_completed_and_credits_the_merchant(
    rig: Rig,
) -> None:
    created = rig.charges.create(CreateCharge("shop-USDC", 31337, "usdc", "25", reference="o-1"))
    assert created.status is ChargeStatus.NEW
    assert created.uri == (
        f"ethereum:{rig.token.address}@31337/transfer?address={created.address}&uint256=25000000"
    )
    rig.pay(created.id, 25 * USDC)
    rig.watcher.run_once()
    assert rig.status(created.id) is ChargeStatus.PENDING
    assert rig.ledger.balance("shop-USDC").posted == 0
    mine(rig.client, 2)
    rig.watcher.run_once()
    done = rig.charges.get(created.id)
    assert (done.status, done.paid) == (ChargeStatus.COMPLETED, 25 * USDC)
    assert rig.ledger.balance("shop-USDC").posted == 25 * USDC
    assert _topics(rig.engine, created.id) == [
        "crypto.charge_created", "crypto.charge_pending", "crypto.charge_completed",
    ]  # fmt: skip
    with rig.engine.connect() as conn:
        actions = set(
            conn.execute(
                select(audit_entries.c.action).where(
                    audit_entries.c.subject == f"charge:{created.id}"
                )
            ).scalars()
        )
    assert {"crypto.charge_created", "crypto.charge_pending", "crypto.charge_completed"} <= actions


def test_partial_payments_are_summed_until_the_charge_is_complete(rig: Rig) -> None:
    charge_id = rig.create("25")
    rig.pay(charge_id, 10 * USDC)
    rig.settle()
    assert rig.status(charge_id) is ChargeStatus.PENDING  # 10 of 25, still time to pay the rest
    rig.pay(charge_id, 15 * USDC)
    rig.settle()
    charge = rig.charges.get(charge_id)
    assert (charge.status, charge.paid) == (ChargeStatus.COMPLETED, 25 * USDC)
    assert rig.ledger.balance("shop-USDC").posted == 25 * USDC


def test_too_little_by_the_expiry_is_underpaid(rig: Rig) -> None:
    charge_id = rig.create("25", minutes=15)
    rig.pay(charge_id, 24 * USDC)
    rig.settle()
    assert rig.status(charge_id) is ChargeStatus.PENDING
    assert rig.charges.expire_due() == 0
    rig.clock.advance(minutes=15)
    assert rig.charges.expire_due() == 1
    assert rig.status(charge_id) is ChargeStatus.UNDERPAID
    assert rig.ledger.balance("shop-USDC").posted == 24 * USDC  # what came in is still booked
    assert _topics(rig.engine, charge_id)[-1] == "crypto.charge_underpaid"


def test_too_much_is_overpaid_and_every_unit_is_credited(rig: Rig) -> None:
    charge_id = rig.create("25")
    rig.pay(charge_id, 30 * USDC)
    rig.settle()
    assert rig.status(charge_id) is ChargeStatus.OVERPAID
    assert rig.ledger.balance("shop-USDC").posted == 30 * USDC


def test_an_unpaid_charge_expires_and_a_payment_after_that_makes_it_delayed(rig: Rig) -> None:
    charge_id = rig.create("0.5", asset="ETH", minutes=10)
    rig.clock.advance(minutes=9, seconds=59)
    assert rig.charges.expire_due() == 0
    assert rig.status(charge_id) is ChargeStatus.NEW
    rig.clock.advance(seconds=1)
    assert rig.charges.expire_due() == 1
    assert rig.status(charge_id) is ChargeStatus.EXPIRED
    rig.pay(charge_id, 5 * 10**17)
    rig.watcher.run_once()
    assert rig.status(charge_id) is ChargeStatus.DELAYED
    mine(rig.client, 2)
    rig.watcher.run_once()
    assert rig.status(charge_id) is ChargeStatus.DELAYED
    assert rig.ledger.balance("shop-ETH").posted == 5 * 10**17  # late money is still booked
    assert _topics(rig.engine, charge_id) == [
        "crypto.charge_created", "crypto.charge_expired", "crypto.charge_delayed",
    ]  # fmt: skip


def test_an_eth_charge_answers_a_value_uri_and_completes(rig: Rig) -> None:
    charge = rig.charges.create(CreateCharge("shop-ETH", 31337, "ETH", "0.25"))
    assert charge.uri == f"ethereum:{charge.address}@31337?value={25 * 10**16}"
    rig.pay(charge.id, 25 * 10**16)
    rig.settle()
    assert rig.status(charge.id) is ChargeStatus.COMPLETED


def test_a_payment_in_another_asset_to_a_charge_address_is_ignored_and_counted(rig: Rig) -> None:
    charge_id = rig.create("25")
    send_eth(rig.client, rig.charges.get(charge_id).address, 10**18)
    rig.settle()
    assert rig.status(charge_id) is ChargeStatus.NEW
    assert rig.watcher.ignored.no_account == 1
    assert rig.ledger.balance("shop-ETH").posted == 0


def test_a_pending_payment_orphaned_by_a_reorg_puts_the_charge_back_to_new(rig: Rig) -> None:
    charge_id = rig.create("25")
    snapshot = rig.client.request("evm_snapshot", [])
    rig.pay(charge_id, 25 * USDC)
    rig.watcher.run_once()
    assert rig.status(charge_id) is ChargeStatus.PENDING
    rig.client.request("evm_revert", [snapshot])
    mine(rig.client, 3)  # a longer chain without the payment
    rig.watcher.run_once()
    assert rig.status(charge_id) is ChargeStatus.NEW
    assert rig.charges.get(charge_id).paid == 0


def test_bad_charge_requests_are_refused_with_typed_errors(rig: Rig) -> None:
    with pytest.raises(UnknownChain):
        rig.charges.create(CreateCharge("shop-USDC", 999, "USDC", "1"))
    with pytest.raises(UnknownToken):
        rig.charges.create(CreateCharge("shop-USDC", 31337, "DAI", "1"))
    with pytest.raises(InvalidAmount):
        rig.charges.create(CreateCharge("shop-USDC", 31337, "USDC", "1.0000001"))
    with pytest.raises(ValueError):
        CreateCharge("shop-USDC", 31337, "USDC", "1", dt.timedelta(0))
    with pytest.raises(UnknownCharge):
        rig.charges.get("ch_missing")
    assert rig.charges.charges() == []


class FailingOnce(ChargeBook):
    """A charge step that fails once, as a crash inside the watcher's transaction would."""

    failed = False

    def deposits_changed(self, uow, chain, changed):  # type: ignore[no-untyped-def]
        if not self.failed:
            self.failed = True
            raise RuntimeError("crash in the charge step")
        super().deposits_changed(uow, chain, changed)


def test_the_charge_step_commits_with_the_watchers_transaction_or_not_at_all(
    rig: Rig, engine: Engine, ledger: LedgerService, clock: ManualClock
) -> None:
    charge_id = rig.create("25")
    rig.pay(charge_id, 25 * USDC)
    watcher = DepositWatcher(
        engine, ledger, rig.watcher.chain, rig.client,
        account_for=ChargeAccounts(engine, account_for), start_block=0, clock=clock,
        hooks=(FailingOnce(clock=clock),),
    )  # fmt: skip
    with pytest.raises(RuntimeError):
        watcher.run_once()
    assert watcher.deposits() == []  # the deposits rolled back with the failed step
    assert rig.status(charge_id) is ChargeStatus.NEW
    watcher.run_once()
    assert [d.amount for d in watcher.deposits()] == [25 * USDC]
    assert rig.status(charge_id) is ChargeStatus.PENDING
