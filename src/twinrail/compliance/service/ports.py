"""The compliance context's ports: where EUR prices come from."""

from __future__ import annotations

from abc import ABC, abstractmethod

from twinrail.compliance.domain.prices import AssetPrice

__all__ = ["PriceSource"]


class PriceSource(ABC):
    """EUR prices per asset; a fixed table until the market context supplies live ones."""

    @abstractmethod
    def price(self, asset: str) -> AssetPrice | None:
        """The asset's EUR price, or None when it has none (the decision then asks a person)."""
