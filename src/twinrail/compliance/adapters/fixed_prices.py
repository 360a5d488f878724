"""A fixed EUR price table (from settings), standing in for the market data context."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from twinrail.compliance.domain.prices import AssetPrice
from twinrail.compliance.service.ports import PriceSource

__all__ = ["FixedPriceTable"]


class FixedPriceTable(PriceSource):
    """Prices and decimals per asset code, as configured."""

    def __init__(self, prices: Mapping[str, Decimal | str], decimals: Mapping[str, int]) -> None:
        self._prices = {
            asset: AssetPrice(asset, decimals[asset], Decimal(str(eur)))
            for asset, eur in prices.items()
            if asset in decimals
        }

    def price(self, asset: str) -> AssetPrice | None:
        return self._prices.get(asset)
