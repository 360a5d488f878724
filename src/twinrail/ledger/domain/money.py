"""Assets and amounts. An amount is an int of the asset's minor units; floats never appear."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext

from twinrail.ledger.domain.errors import InvalidAmount, InvalidAsset

__all__ = ["MAX_AMOUNT", "MAX_SCALE", "Asset", "check_amount", "to_minor_units", "format_amount"]

MAX_AMOUNT = 10**78 - 1  # fits NUMERIC(78,0) and uint256-sized token amounts
MAX_SCALE = 36
_MAX_DIGITS = 78
_ASSET_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")


@dataclass(frozen=True, slots=True)
class Asset:
    """A unit of account: EUR has scale 2 (cents), USDC 6, ETH 18 (wei)."""

    code: str
    scale: int

    def __post_init__(self) -> None:
        if not _ASSET_CODE.match(self.code):
            raise InvalidAsset(
                "asset code must be 2-12 upper-case letters or digits", asset=self.code[:40]
            )
        if not 0 <= self.scale <= MAX_SCALE:
            raise InvalidAsset(f"asset scale must be 0..{MAX_SCALE}", scale=self.scale)


def check_amount(amount: int) -> int:
    """Return `amount` if it is a positive int below 10^78, else raise InvalidAmount."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount("amount must be an integer of minor units", amount=repr(amount))
    if amount <= 0:
        raise InvalidAmount(
            "amount must be positive", amount=str(amount) if amount > -MAX_AMOUNT else "-huge"
        )
    if amount > MAX_AMOUNT:
        raise InvalidAmount("amount must be below 10^78", bits=amount.bit_length())
    return amount


def to_minor_units(value: str | Decimal | int, asset: Asset) -> int:
    """Parse a decimal major-unit amount ("12.34") exactly into minor units (1234 for EUR)."""
    try:
        number = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmount("amount is not a decimal number", value=str(value)[:40]) from exc
    if not number.is_finite():
        raise InvalidAmount("amount is not a finite number", value=str(value)[:40])
    if number and number.adjusted() + asset.scale > _MAX_DIGITS:
        raise InvalidAmount("amount must be below 10^78 minor units", asset=asset.code)
    # Exact arithmetic: the default context keeps 28 significant digits, a wei amount has 78.
    with localcontext(Context(prec=_MAX_DIGITS + MAX_SCALE + 2, traps=[Inexact])):
        try:
            minor = number.scaleb(asset.scale)
        except Inexact as exc:  # pragma: no cover - the precision above covers every input
            raise InvalidAmount("amount cannot be represented exactly") from exc
    if minor != minor.to_integral_value():
        raise InvalidAmount(
            f"{asset.code} has {asset.scale} decimals; amount is more precise",
            value=str(value)[:40],
            asset=asset.code,
        )
    return check_amount(int(minor))


def format_amount(minor: int, asset: Asset) -> str:
    """Render minor units as a plain decimal string with exactly `scale` decimals."""
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor)).rjust(asset.scale + 1, "0")
    if asset.scale == 0:
        return sign + digits
    return f"{sign}{digits[: -asset.scale]}.{digits[-asset.scale :]}"
