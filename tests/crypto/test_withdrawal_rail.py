"""The chain rail as the pipeline uses it: validate, reserve (the ledger hold), submit, status,
release — against the real ledger and, where it goes on chain, a real anvil."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.crypto.withdrawal_support import ETH, PAYEE, USDC, make_rig, open_customer, processor_for
from twinrail.crypto.adapters.withdrawal_rail import WithdrawalRail, withdrawal_id_of
from twinrail.crypto.domain.chains import Chain, ChainRegistry, Token
from twinrail.crypto.domain.fees import FeePolicy
from twinrail.crypto.domain.withdrawals import (
    WithdrawalStateConflict,
    WithdrawalStatus,
    hold_id_for,
)
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.withdrawals import WithdrawalService
from twinrail.crypto.settings import ChainConfig, CryptoSettings
from twinrail.crypto.wiring import build_withdrawal_rail
from twinrail.ledger.domain.errors import LimitExceeded
from twinrail.ledger.domain.model import TransferStatus
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.pipeline.domain.compliance import Decision, ScreeningRequest, Verdict
from twinrail.pipeline.domain.errors import InvalidOrder
from twinrail.pipeline.domain.model import OrderState, OrderType, PaymentOrder
from twinrail.pipeline.service.payment_orders import CreatePaymentOrder, PaymentOrderService
from twinrail.pipeline.service.ports import CompliancePort, RailRegistry
from twinrail.sandbox.anvil import AnvilNode

CHAIN = 31337
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


class AllowAll(CompliancePort):
    def decide(self, request: ScreeningRequest) -> Decision:  # noqa: ARG002
        return Decision(Verdict.ALLOW, ("test: allowed",))


def _order(account: str = "ann-ETH", **changes: Any) -> PaymentOrder:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    fields: dict[str, object] = {
        "id": uuid.uuid4().hex,
        "client_id": "client-1",
        "customer_id": "ann",
        "type": OrderType.CRYPTO_WITHDRAWAL,
        "state": OrderState.APPROVED,
        "asset": "ETH",
        "amount": ETH // 2,
        "source_account": account,
        "destination_account": "",
        "reference": "payout",
        "created_at": now,
        "updated_at": now,
        "metadata": {"chain_id": CHAIN, "to_address": PAYEE},
    }
    return PaymentOrder(**{**fields, **changes})


def _offline_rail(engine: Engine) -> tuple[WithdrawalRail, LedgerService]:
    """A rail whose chain is configured but never called (validate, reserve and release)."""
    chain = Chain(CHAIN, "anvil", "http://127.0.0.1:9", tokens=(Token("USDC", TOKEN, 6),))
    ledger = LedgerService(engine)
    return WithdrawalRail(WithdrawalService(engine, ledger, ChainRegistry([chain]))), ledger


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metadata": {"chain_id": CHAIN, "to_address": PAYEE.lower()}}, "EIP-55"),
        ({"metadata": {"chain_id": CHAIN, "to_address": "0xnothex"}}, "20-byte"),
        ({"metadata": {"chain_id": CHAIN}}, "to_address is required"),
        ({"metadata": {"chain_id": "main", "to_address": PAYEE}}, "chain_id must be"),
        ({"metadata": {"chain_id": 999, "to_address": PAYEE}}, "chain is not configured"),
        ({"asset": "DAI"}, "token not listed"),
        ({"amount": -5}, "positive"),
    ],
)
def test_validate_refuses_an_order_the_chain_cannot_carry(
    engine: Engine, changes: dict[str, Any], message: str
) -> None:
    rail, _ = _offline_rail(engine)
    with pytest.raises(InvalidOrder, match=message):
        rail.validate(_order(**changes))


def test_validate_accepts_a_listed_token_and_a_checksummed_address(engine: Engine) -> None:
    rail, _ = _offline_rail(engine)
    rail.validate(_order(asset="USDC", amount=1_500_000))
    rail.validate(_order())


def test_the_wiring_builds_the_rail_over_the_configured_chains(engine: Engine) -> None:
    config = ChainConfig(chain_id=CHAIN, name="anvil", rpc_url="http://127.0.0.1:9")
    rail = build_withdrawal_rail(engine, LedgerService(engine), CryptoSettings(chains=[config]))
    assert rail.order_type is OrderType.CRYPTO_WITHDRAWAL
    assert RailRegistry([rail]).rail_for(OrderType.CRYPTO_WITHDRAWAL) is rail
    rail.validate(_order())
    with pytest.raises(InvalidOrder, match="token not listed"):
        rail.validate(_order(asset="USDC"))


def test_reserve_holds_the_funds_once_and_release_voids_the_hold(engine: Engine) -> None:
    rail, ledger = _offline_rail(engine)
    open_customer(ledger, "ann", {"ETH": 1 * ETH})
    order = _order()

    rail.reserve(order)
    rail.reserve(order)  # a retry after a crash: the same hold, not a second one
    assert ledger.balance("ann-ETH").available == ETH // 2
    hold = ledger.transfer(hold_id_for(withdrawal_id_of(order)))
    assert hold.status is TransferStatus.PENDING

    rail.release(order)
    rail.release(order)  # releasing again is harmless
    assert ledger.balance("ann-ETH").available == ETH
    assert ledger.transfer(hold.id).status is TransferStatus.VOIDED


def test_reserve_above_the_available_balance_is_refused_by_the_ledger(engine: Engine) -> None:
    rail, ledger = _offline_rail(engine)
    open_customer(ledger, "ann", {"ETH": ETH // 4})
    with pytest.raises(LimitExceeded):
        rail.reserve(_order())
    assert ledger.balance("ann-ETH").available == ETH // 4


def test_a_pipeline_order_completes_when_its_withdrawal_is_final_on_chain(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0)
    open_customer(rig.ledger, "ann", {"ETH": 1 * ETH})
    rail = WithdrawalRail(rig.service)
    orders = PaymentOrderService(engine, RailRegistry([rail]), AllowAll())

    order = orders.create(
        CreatePaymentOrder(
            order_id=uuid.uuid4().hex,
            client_id="client-1",
            customer_id="ann",
            type=OrderType.CRYPTO_WITHDRAWAL,
            asset="ETH",
            amount=ETH // 2,
            source_account="ann-ETH",
            destination_account="",
            reference="payout",
            metadata={"chain_id": anvil.chain_id, "to_address": PAYEE},
        )
    )
    assert order.state is OrderState.PROCESSING
    assert rail.status(order).completed is False
    assert rail.submit(order).completed is False  # submitting again changes nothing
    with pytest.raises(WithdrawalStateConflict):
        rail.release(order)  # submitted: the processor settles the hold, not a release

    processor = processor_for(rig)
    processor.run_once()
    assert "mined" in rail.status(order).reason
    rig.mine(1)
    processor.run_once()

    outcome = rail.status(order)
    assert outcome.completed and not outcome.failed
    withdrawal = rig.service.find(withdrawal_id_of(order))
    assert withdrawal is not None and withdrawal.status is WithdrawalStatus.FINAL
    # the hold reserve placed is the one the withdrawal posted
    assert withdrawal.hold_id == hold_id_for(withdrawal_id_of(order))
    assert rig.ledger.transfer(withdrawal.hold_id).status is TransferStatus.POSTED
    assert rig.ledger.balance("ann-ETH").posted == ETH // 2
    assert rig.ledger.balance("ann-ETH").available == ETH // 2


def test_a_refused_withdrawal_is_reported_failed_with_its_reason(
    engine: Engine, anvil: AnvilNode, software_store: KeyStore
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store)
    open_customer(rig.ledger, "ann", {"USDC": 10 * USDC})
    rail = WithdrawalRail(rig.service)
    order = _order("ann-USDC", asset="USDC", amount=2 * USDC)

    rail.reserve(order)
    assert rail.submit(order).completed is False
    processor_for(rig, policy=FeePolicy(max_fee_cap=1)).run_once()

    outcome = rail.status(order)
    assert outcome.failed and not outcome.completed
    assert "refused" in outcome.reason and "configured cap" in outcome.reason
    assert rig.ledger.balance("ann-USDC").available == 10 * USDC
