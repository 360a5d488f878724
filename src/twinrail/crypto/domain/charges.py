"""Payment requests (charges): an amount of one asset, to a fresh address, before an expiry.

A charge's status is a pure function of its terms, the payments seen on its address and the
time (`charge_status`); the service recomputes it whenever one of those changes and publishes
an event per change. Statuses follow Coinbase Commerce's:

    new ──payment seen──▶ pending ──confirmed, sum = amount──▶ completed
     │                      │  └────confirmed, sum > amount──▶ overpaid
     │                      └─expired, confirmed, sum < amount──▶ underpaid
     └──expired, nothing paid──▶ expired ──payment after expiry──▶ delayed

Rules, in the order `charge_status` applies them:
- a payment is *on time* when it was seen strictly before `expires_at`; several payments are
  summed (partial payments), whatever their order or split;
- nothing on time: `delayed` if anything arrived late, else `expired` from `expires_at` on,
  else `new`;
- any on-time payment still unconfirmed: `pending` (the outcome is not known yet);
- on-time sum equal to the amount: `completed`, or `overpaid` when late payments came on top;
- on-time sum above the amount: `overpaid`;
- on-time sum below the amount: `pending` until the expiry, then `delayed` if the rest came
  late, else `underpaid`.
A reorg that removes a payment simply removes it from the input: the status is recomputed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, ClassVar

from twinrail.crypto.domain.errors import InvalidAmount

__all__ = [
    "ChargeStatus",
    "ChargePayment",
    "Charge",
    "ChargeStatusChanged",
    "charge_status",
    "charge_owner_ref",
    "charge_id_of",
    "is_charge_owner_ref",
    "status_event",
    "parse_amount",
    "payment_uri",
    "CHARGE_TOPICS",
]

_OWNER_PREFIX = "charge:"


class ChargeStatus(StrEnum):
    """Where a charge stands (Coinbase Commerce's vocabulary)."""

    NEW = "new"
    PENDING = "pending"
    COMPLETED = "completed"
    EXPIRED = "expired"
    UNDERPAID = "underpaid"
    OVERPAID = "overpaid"
    DELAYED = "delayed"


@dataclass(frozen=True, slots=True)
class ChargePayment:
    """One payment to a charge's address in the charge's asset."""

    tx_hash: str
    log_index: int
    amount: int
    seen_at: dt.datetime
    confirmed: bool


@dataclass(frozen=True, slots=True)
class Charge:
    """A payment request: `amount` minor units of `asset` on `chain_id`, to `address`."""

    id: str
    chain_id: int
    asset: str
    token: str | None  # checksummed contract; None for the native asset
    amount: int
    address: str
    account_id: str  # the merchant's ledger account credited with the payments
    status: ChargeStatus
    paid: int  # sum of every live payment (on time or late), confirmed or not
    created_at: dt.datetime
    expires_at: dt.datetime
    updated_at: dt.datetime
    version: int = 1
    reference: str | None = None

    @property
    def uri(self) -> str:
        """The EIP-681 payment URI a wallet opens to pay this charge."""
        return payment_uri(self.chain_id, self.address, self.amount, self.token)


def charge_status(
    amount: int,
    expires_at: dt.datetime,
    payments: Iterable[ChargePayment],
    now: dt.datetime,
) -> ChargeStatus:
    """The status of a charge of `amount` expiring at `expires_at`, given its payments, at `now`."""
    on_time = late = 0
    unconfirmed = False
    for p in payments:
        if p.seen_at < expires_at:
            on_time += p.amount
            unconfirmed = unconfirmed or not p.confirmed
        else:
            late += p.amount
    expired = now >= expires_at
    if on_time == 0:
        if late:
            return ChargeStatus.DELAYED
        return ChargeStatus.EXPIRED if expired else ChargeStatus.NEW
    if unconfirmed:
        return ChargeStatus.PENDING
    if on_time == amount:
        return ChargeStatus.OVERPAID if late else ChargeStatus.COMPLETED
    if on_time > amount:
        return ChargeStatus.OVERPAID
    if not expired and not late:
        return ChargeStatus.PENDING
    return ChargeStatus.DELAYED if late else ChargeStatus.UNDERPAID


def charge_owner_ref(charge_id: str) -> str:
    """The custody `owner_ref` of a charge's address (tells it from customer deposit addresses)."""
    return _OWNER_PREFIX + charge_id


def is_charge_owner_ref(owner_ref: str) -> bool:
    return owner_ref.startswith(_OWNER_PREFIX)


def charge_id_of(owner_ref: str) -> str:
    return owner_ref.removeprefix(_OWNER_PREFIX)


_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def parse_amount(text: str | int, decimals: int) -> int:
    """Minor units of a decimal amount such as "12.5"; more decimals than the asset has fail.

    An `int` is taken as minor units already. Zero, negatives, exponents and signs are refused.
    """
    if isinstance(text, int):
        minor = text
    else:
        if not _DECIMAL.match(text):
            raise InvalidAmount("not a plain positive decimal amount", amount=text)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InvalidAmount("not a decimal amount", amount=text) from None
        scaled = value.scaleb(decimals)
        if scaled != scaled.to_integral_value():
            raise InvalidAmount(
                "more decimal places than the asset has", amount=text, decimals=decimals
            )
        minor = int(scaled)
    if minor <= 0:
        raise InvalidAmount("amount must be positive", amount=str(text))
    return minor


def payment_uri(chain_id: int, address: str, amount: int, token: str | None) -> str:
    """EIP-681: a token `transfer` call, or a native value transfer, with integer amounts."""
    if token is None:
        return f"ethereum:{address}@{chain_id}?value={amount}"
    return f"ethereum:{token}@{chain_id}/transfer?address={address}&uint256={amount}"


@dataclass(frozen=True, slots=True)
class ChargeStatusChanged:
    """A charge was created or moved to another status (topic `crypto.charge_<status>`)."""

    topic: ClassVar[str] = "crypto.charge_changed"
    charge: Charge
    previous: ChargeStatus | None

    @property
    def stream_id(self) -> str:
        return f"crypto-charge-{self.charge.id}"

    @property
    def stream_version(self) -> int:
        return self.charge.version

    def payload(self) -> dict[str, Any]:
        c = self.charge
        return {
            "charge_id": c.id,
            "status": c.status.value,
            "previous_status": self.previous.value if self.previous else None,
            "chain_id": c.chain_id,
            "asset": c.asset,
            "token": c.token,
            "amount": str(c.amount),
            "paid": str(c.paid),
            "address": c.address,
            "account_id": c.account_id,
            "expires_at": c.expires_at.isoformat(),
            "reference": c.reference,
        }


def _topic_class(status: str) -> type[ChargeStatusChanged]:
    return type(
        f"Charge{status.title()}",
        (ChargeStatusChanged,),
        {"__slots__": (), "topic": f"crypto.charge_{status}"},
    )


CHARGE_TOPICS: dict[str, type[ChargeStatusChanged]] = {
    s: _topic_class(s) for s in ["created", *(st.value for st in ChargeStatus)]
}
"""The event class per topic: `created` for a new charge, then one per status it moves to
(`new` again only when a reorg takes away the payment that had made it `pending`)."""


def status_event(charge: Charge, previous: ChargeStatus | None) -> ChargeStatusChanged:
    """The event announcing `charge` in its current status (created when `previous` is None)."""
    key = "created" if previous is None else charge.status.value
    return CHARGE_TOPICS[key](charge, previous)
