"""The rails this platform enables, and the payment order service over them.

One place decides which rails exist, so the API (which creates orders) and the worker (which
follows them up and carries out review decisions) always drive orders through the same rails.
"""

from __future__ import annotations

from twinrail.bootstrap import Platform
from twinrail.compliance.adapters.pipeline_port import build_engine_compliance
from twinrail.crypto.settings import CryptoSettings
from twinrail.crypto.wiring import build_withdrawal_rail
from twinrail.ledger.service.group_commit import GroupCommitter
from twinrail.pipeline.adapters.internal_rail import InternalRail
from twinrail.pipeline.service.payment_orders import PaymentOrderService
from twinrail.pipeline.service.ports import Rail, RailRegistry
from twinrail.platform.clock import Clock, utc_now

__all__ = ["build_rails", "build_payment_orders"]


def build_rails(platform: Platform, *, committer: GroupCommitter | None = None) -> RailRegistry:
    """Every rail enabled by configuration; a type without one answers "rail not enabled"."""
    rails: list[Rail] = [
        InternalRail(platform.ledger, committer=committer),
        # validates against the chain registry; the worker's loops talk to the nodes
        build_withdrawal_rail(platform.engine, platform.ledger, CryptoSettings()),
    ]
    return RailRegistry(rails)


def build_payment_orders(
    platform: Platform, *, committer: GroupCommitter | None = None, clock: Clock = utc_now
) -> PaymentOrderService:
    """The payment order service with the compliance engine and every enabled rail."""
    return PaymentOrderService(
        platform.engine,
        build_rails(platform, committer=committer),
        build_engine_compliance(platform.engine, clock=clock),
        clock=clock,
    )
