"""The pipeline's ports: the compliance decider and the rails money leaves by."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from twinrail.pipeline.domain.compliance import Decision, ScreeningRequest
from twinrail.pipeline.domain.errors import RailNotEnabled
from twinrail.pipeline.domain.model import OrderType, PaymentOrder

__all__ = ["CompliancePort", "Rail", "RailOutcome", "RailRegistry"]


class CompliancePort(ABC):
    """Decides whether an order may move money; the compliance context supplies the real one."""

    @abstractmethod
    def decide(self, request: ScreeningRequest) -> Decision: ...


@dataclass(frozen=True, slots=True)
class RailOutcome:
    """What a rail says of an order: finished, still going, or failed, and why."""

    completed: bool
    failed: bool = False
    reason: str = ""


class Rail(ABC):
    """One way money leaves or moves: internal ledger, SEPA via open banking, a chain."""

    order_type: OrderType
    # True when `submit` settles the order before it returns (the internal ledger rail); the
    # pipeline then records hand-over and outcome together instead of one after the other.
    completes_on_submit: bool = False

    @abstractmethod
    def validate(self, order: PaymentOrder) -> None:
        """Raise InvalidOrder if this rail cannot carry the order."""

    @abstractmethod
    def reserve(self, order: PaymentOrder) -> None:
        """Hold the order's funds in the ledger (on approval)."""

    @abstractmethod
    def submit(self, order: PaymentOrder) -> RailOutcome:
        """Hand the order to the rail; from here on it can no longer be cancelled."""

    @abstractmethod
    def status(self, order: PaymentOrder) -> RailOutcome:
        """Where the rail is with the order."""

    @abstractmethod
    def release(self, order: PaymentOrder) -> None:
        """Release the held funds (order cancelled or failed before submission)."""


class RailRegistry:
    """The rails by order type; a type without a rail answers RailNotEnabled."""

    def __init__(self, rails: list[Rail] | None = None) -> None:
        self._rails = {rail.order_type: rail for rail in rails or []}

    def register(self, rail: Rail) -> None:
        self._rails[rail.order_type] = rail

    def rail_for(self, order_type: OrderType) -> Rail:
        rail = self._rails.get(order_type)
        if rail is None:
            raise RailNotEnabled(
                f"the {order_type.value} rail is not enabled on this platform yet",
                order_type=order_type.value,
            )
        return rail

    def enabled(self) -> list[OrderType]:
        return sorted(self._rails)
