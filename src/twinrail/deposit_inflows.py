"""Crypto deposits into compliance's rules: the deposit-inflow consumer, wired across contexts.

Compliance declares what it needs (`CustomerOfAccount`: the customer behind the ledger account
a deposit event names); the API context owns customers and their accounts and answers it
(`AccountOwners`). Only this composition root knows both, as `rails.py` does for the pipeline,
so neither context imports the other's store or service.
"""

from __future__ import annotations

from sqlalchemy import Engine

from twinrail.api.service.account_owners import AccountOwners
from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.service.inflows import DepositInflows
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.platform.clock import Clock, utc_now

__all__ = ["build_deposit_inflows"]


def build_deposit_inflows(
    engine: Engine, *, settings: ComplianceSettings | None = None, clock: Clock = utc_now
) -> DepositInflows:
    """The consumer with the API's account owners and the decisions' EUR price table."""
    settings = settings or ComplianceSettings()
    prices = FixedPriceTable(settings.prices_eur, settings.asset_decimals)
    return DepositInflows(engine, AccountOwners(engine), prices, clock=clock)
