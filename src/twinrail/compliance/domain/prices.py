"""Valuing an amount of any asset in EUR cents, for limits that count every asset alike."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

__all__ = ["AssetPrice", "eur_cents_of"]


@dataclass(frozen=True, slots=True)
class AssetPrice:
    """The EUR price of one whole unit of an asset, and how many minor units make one."""

    asset: str
    decimals: int
    eur: Decimal


def eur_cents_of(amount: int, price: AssetPrice) -> int:
    """The EUR cents `amount` minor units are worth, rounded up (limits err on the safe side)."""
    value = Decimal(amount) * price.eur * 100 / (Decimal(10) ** price.decimals)
    return int(value.to_integral_value(rounding=ROUND_CEILING))
