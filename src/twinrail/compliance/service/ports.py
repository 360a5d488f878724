"""The compliance context's ports: EUR prices, and the customer behind a ledger account."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

from twinrail.compliance.domain.prices import AssetPrice

__all__ = ["PriceSource", "CustomerOfAccount"]


class PriceSource(ABC):
    """EUR prices per asset; a fixed table until the market context supplies live ones."""

    @abstractmethod
    def price(self, asset: str) -> AssetPrice | None:
        """The asset's EUR price, or None when it has none (the decision then asks a person)."""


class CustomerOfAccount(Protocol):
    """Which customer a ledger account belongs to. Events of other contexts name ledger
    accounts; the rules know customers. The composition root fills it from the context that
    owns the mapping (the API's customer accounts), so compliance reads no other store."""

    def customer_of(self, ledger_account_id: str) -> str | None:
        """The customer id, or None when the account belongs to no known customer."""
        ...
