"""Crypto deposits as inflows for the rules: the consumer of `crypto.deposit_credited` and
`crypto.deposit_reversed` that keeps rapid in-and-out fed, exactly once per event.

A credited deposit becomes an inflow fact (`compliance_movement_facts`, direction in), as
`DecisionService.record_inflow` records one, keyed by the deposit's natural key and
incarnation. A reversed deposit (a reorg took its block after crediting) sets that fact's EUR
value to 0 under its original time: the inflow no longer counts, and the audit trail keeps
both steps. A reversal that arrives before its credit leaves the zero fact as a tombstone, so
the late credit is not counted either.

The event names the ledger account credited; which customer owns it is asked through
`CustomerOfAccount` before the transaction (the composition root answers from the API's
customer accounts), so compliance reads no other context's store. The event's claim
(`processed_events`), the fact and the audit record commit together: a redelivered event
changes nothing. Deposits to accounts no customer owns (charges, house accounts) and in assets
without a EUR price are claimed and skipped with a log line naming only ids.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import structlog
from sqlalchemy import Engine

from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.domain.prices import eur_cents_of
from twinrail.compliance.domain.rules import Direction
from twinrail.compliance.service.ports import CustomerOfAccount, PriceSource
from twinrail.compliance.store.kyc_store import KycStore
from twinrail.compliance.store.rules_store import FactRecord, RulesStore
from twinrail.platform.bus import Bus, Subscription
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.consumers import claim_event
from twinrail.platform.outbox import OutboxMessage
from twinrail.platform.uow import UnitOfWork

__all__ = [
    "DEPOSIT_CREDITED",
    "DEPOSIT_REVERSED",
    "DEPOSIT_INFLOWS_CONSUMER",
    "DEPOSIT_INFLOWS_PATTERN",
    "DepositInflow",
    "DepositInflows",
    "deposit_reference",
]

log = structlog.get_logger(__name__)

DEPOSIT_CREDITED = "crypto.deposit_credited"
DEPOSIT_REVERSED = "crypto.deposit_reversed"
DEPOSIT_INFLOWS_CONSUMER = "compliance.deposit_inflows"
# One subscription for both topics keeps a deposit's credit and reversal in stream order.
DEPOSIT_INFLOWS_PATTERN = "crypto.*"

INFLOW = "inflow"
INFLOW_REVERSED = "inflow_reversed"


def deposit_reference(chain_id: int, tx_hash: str, log_index: int, incarnation: int) -> str:
    """The inflow's key: one per deposit incarnation (a deposit back after a reorg is new)."""
    return f"deposit:{chain_id}:{tx_hash.lower()}:{log_index}:{incarnation}"


@dataclass(frozen=True, slots=True)
class DepositInflow:
    """What the rules need of a deposit event: its key, the account credited, the money."""

    reference: str
    ledger_account_id: str
    asset: str
    amount: int  # minor units of `asset`
    reversed: bool

    @classmethod
    def from_message(cls, message: OutboxMessage) -> DepositInflow:
        p = message.payload
        return cls(
            reference=deposit_reference(
                int(p["chain_id"]), str(p["tx_hash"]), int(p["log_index"]), int(p["incarnation"])
            ),
            # events from before the field named the owner_ref only, the default account
            ledger_account_id=str(p.get("ledger_account_id") or p["account_id"]),
            asset=str(p["asset"]),
            amount=int(p["amount"]),
            reversed=message.topic == DEPOSIT_REVERSED,
        )


class DepositInflows:
    """Records credited deposits as inflows and takes reversed ones back, once per event."""

    def __init__(
        self,
        engine: Engine,
        accounts: CustomerOfAccount,
        prices: PriceSource,
        *,
        clock: Clock = utc_now,
        actor: str = "compliance",
    ) -> None:
        self.engine, self.accounts, self.prices = engine, accounts, prices
        self.clock, self.actor = clock, actor

    def subscribe(self, bus: Bus) -> Subscription:
        """Attach to `bus` as the durable consumer `compliance.deposit_inflows`."""

        def handler(message: OutboxMessage) -> None:
            self.handle(message)

        return bus.subscribe(DEPOSIT_INFLOWS_PATTERN, handler, consumer=DEPOSIT_INFLOWS_CONSUMER)

    def handle(self, message: OutboxMessage) -> bool:
        """Apply a deposit event unless it was already (or is another topic): ran now?"""
        if message.topic not in (DEPOSIT_CREDITED, DEPOSIT_REVERSED):
            return False
        inflow = DepositInflow.from_message(message)
        customer = self.accounts.customer_of(inflow.ledger_account_id)  # outside the transaction
        with UnitOfWork(self.engine, actor=self.actor, clock=self.clock) as uow:
            if not claim_event(uow.connection, DEPOSIT_INFLOWS_CONSUMER, message.event_id):
                return False
            if customer is None:
                self._skip(message, inflow, "account_of_no_customer")
            elif inflow.reversed:
                self._take_back(uow, inflow, customer, message)
            else:
                self._record(uow, inflow, customer, message)
            uow.commit()
        return True

    def _record(
        self, uow: UnitOfWork, inflow: DepositInflow, customer: str, message: OutboxMessage
    ) -> None:
        price = self.prices.price(inflow.asset)
        if price is None:
            self._skip(message, inflow, "asset_without_eur_price")
            return
        KycStore(uow.connection).lock_customer(customer)  # decisions read a settled history
        rules = RulesStore(uow.connection)
        if rules.has_fact(inflow.reference):  # recorded, or reversed before it arrived
            return
        eur_cents = eur_cents_of(inflow.amount, price)
        rules.record_fact(
            FactRecord(inflow.reference, customer, Direction.IN, INFLOW, Outcome.ALLOW,
                       eur_cents, None, 0, message.occurred_at)
        )  # fmt: skip
        uow.audit(
            "compliance.inflow",
            f"customer:{customer}",
            reference=inflow.reference,
            eur_cents=eur_cents,
            event_id=message.event_id,
        )

    def _take_back(
        self, uow: UnitOfWork, inflow: DepositInflow, customer: str, message: OutboxMessage
    ) -> None:
        KycStore(uow.connection).lock_customer(customer)
        rules = RulesStore(uow.connection)
        recorded = rules.fact(inflow.reference)
        if recorded is not None and recorded.order_type == INFLOW_REVERSED:
            return
        base = recorded or FactRecord(
            inflow.reference, customer, Direction.IN, INFLOW, Outcome.ALLOW, 0, None, 0,
            message.occurred_at,
        )  # fmt: skip
        rules.record_fact(dataclasses.replace(base, order_type=INFLOW_REVERSED, eur_cents=0))
        uow.audit(
            "compliance.inflow_reversed",
            f"customer:{customer}",
            reference=inflow.reference,
            eur_cents_before=recorded.eur_cents if recorded else None,
            event_id=message.event_id,
        )

    @staticmethod
    def _skip(message: OutboxMessage, inflow: DepositInflow, reason: str) -> None:
        # ids only: the address, the sender and amounts stay out of the logs
        log.info(
            "compliance.deposit_inflow_skipped",
            reason=reason,
            event_id=message.event_id,
            topic=message.topic,
            ledger_account_id=inflow.ledger_account_id,
            asset=inflow.asset,
        )
