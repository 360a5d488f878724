"""Withdrawals: a customer's funds leaving custody on a chain, as a pure state machine.

held → signed → broadcast → mined → final, or reverted (mined with status 0), refused (the
fee would exceed the chain's cap) or failed (the node says the transfer would revert). A mined
withdrawal whose block a reorg took away goes back to broadcast. A signed or broadcast withdrawal
whose nonce the chain used for a transaction not ours (for good) is signed again at a fresh nonce
(back to signed). Every move is a `WithdrawalTransitioned` event carrying its reason.

A withdrawal the hot wallet cannot pay the gas for stays where it is, with the reason recorded,
and raises one `HotWalletUnderfunded` alert (`note_underfunded`).

The ledger follows the states: the customer's funds are held from the request on; `final` posts
the hold, every terminal state but `final` voids it, and `final` and `reverted` book the fee
actually paid (gasUsed × effectiveGasPrice) as a network expense.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation, localcontext
from enum import StrEnum
from typing import Any, ClassVar

from eth_utils.address import to_checksum_address

from twinrail.crypto.domain.chains import Chain, Token
from twinrail.crypto.domain.errors import CryptoFault, CryptoRejection, InvalidAddress

__all__ = [
    "WithdrawalStatus",
    "TERMINAL",
    "Withdrawal",
    "WithdrawalRequest",
    "WithdrawalTransitioned",
    "HotWalletUnderfunded",
    "UNDERFUNDED_PREFIX",
    "note_underfunded",
    "InvalidWithdrawal",
    "UnknownWithdrawal",
    "WithdrawalConflict",
    "WithdrawalStateConflict",
    "WithdrawalFault",
    "ValidatedRequest",
    "require_checksummed",
    "validate_request",
    "to_base_units",
    "transition",
    "hold_id_for",
    "fee_transfer_id_for",
]


class InvalidWithdrawal(CryptoRejection):
    """Raised for a withdrawal request that breaks a rule (amount, decimals, destination)."""

    code = "crypto.invalid_withdrawal"


class UnknownWithdrawal(CryptoRejection):
    """Raised when no withdrawal has the id asked for."""

    code = "crypto.unknown_withdrawal"


class WithdrawalConflict(CryptoRejection):
    """Raised when a withdrawal id is reused for a different request."""

    code = "crypto.withdrawal_conflict"


class WithdrawalStateConflict(CryptoRejection):
    """Raised when a withdrawal cannot make the asked move (it is elsewhere in its life)."""

    code = "crypto.withdrawal_state_conflict"


class WithdrawalFault(CryptoFault):
    """Raised when a withdrawal's records disagree (e.g. signed, but no signed bytes stored)."""

    code = "crypto.withdrawal_fault"


class WithdrawalStatus(StrEnum):
    """Where a withdrawal is in its life."""

    HELD = "held"  # validated, the customer's funds held; nothing signed yet
    SIGNED = "signed"  # signed bytes stored with their nonce; maybe not yet on the node
    BROADCAST = "broadcast"  # handed to the node
    MINED = "mined"  # in a block, waiting for the chain's confirmations
    FINAL = "final"  # confirmed: hold posted, fee booked
    REVERTED = "reverted"  # confirmed with status 0: hold released, fee booked
    REFUSED = "refused"  # the fee would exceed the configured cap: hold released
    FAILED = "failed"  # the node says it would revert (e.g. hot wallet short): hold released


S = WithdrawalStatus
TERMINAL = frozenset({S.FINAL, S.REVERTED, S.REFUSED, S.FAILED})
_NEXT: dict[WithdrawalStatus, frozenset[WithdrawalStatus]] = {
    S.HELD: frozenset({S.SIGNED, S.REFUSED, S.FAILED}),
    # back to / again signed: the nonce was used by a transaction not ours, re-signed at a new one
    S.SIGNED: frozenset({S.BROADCAST, S.MINED, S.SIGNED}),
    S.BROADCAST: frozenset({S.MINED, S.BROADCAST, S.SIGNED}),  # to itself: replaced or resent
    S.MINED: frozenset({S.FINAL, S.REVERTED, S.BROADCAST}),  # back: a reorg dropped the block
    S.FINAL: frozenset(),
    S.REVERTED: frozenset(),
    S.REFUSED: frozenset(),
    S.FAILED: frozenset(),
}

_ZERO_ADDRESS = "0x" + "0" * 40
_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


@dataclass(frozen=True, slots=True)
class WithdrawalRequest:
    """Pay `amount` base units of `asset` on `chain_id` from ledger `account_id` to `to_address`."""

    withdrawal_id: str
    account_id: str
    chain_id: int
    asset: str
    amount: int
    to_address: str
    reference: str = ""


@dataclass(frozen=True, slots=True)
class ValidatedRequest:
    """A request that passed every rule: the canonical asset symbol, token and destination."""

    request: WithdrawalRequest
    asset: str
    token: Token | None
    decimals: int
    to_address: str


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """One withdrawal and what is known of its transaction."""

    id: str
    account_id: str
    chain_id: int
    asset: str
    token: str | None  # the ERC-20 contract; None for the native asset
    amount: int
    to_address: str
    status: WithdrawalStatus
    hold_id: str
    reference: str
    created_at: dt.datetime
    updated_at: dt.datetime
    reason: str = ""
    hot_address: str | None = None
    nonce: int | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    gas_used: int | None = None
    effective_gas_price: int | None = None
    fee: int | None = None  # wei actually paid, once mined
    version: int = 1

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def same_request(self, v: ValidatedRequest) -> bool:
        """Whether `v` asks for exactly this withdrawal (a replay, not a conflict)."""
        r = v.request
        return (self.account_id, self.chain_id, self.asset, self.amount, self.to_address) == (
            r.account_id,
            r.chain_id,
            v.asset,
            r.amount,
            v.to_address,
        )


class _OnWithdrawalStream:
    """An event on its withdrawal's stream, at the withdrawal's version."""

    __slots__ = ()
    withdrawal: Withdrawal

    @property
    def stream_id(self) -> str:
        return f"crypto-withdrawal-{self.withdrawal.id}"

    @property
    def stream_version(self) -> int:
        return self.withdrawal.version


@dataclass(frozen=True, slots=True)
class WithdrawalTransitioned(_OnWithdrawalStream):
    """A withdrawal moved from one status to another, for a reason."""

    topic: ClassVar[str] = "crypto.withdrawal_transitioned"
    withdrawal: Withdrawal
    from_status: WithdrawalStatus | None

    def payload(self) -> dict[str, Any]:
        w = self.withdrawal
        return {
            "withdrawal_id": w.id,
            "account_id": w.account_id,
            "chain_id": w.chain_id,
            "asset": w.asset,
            "amount": str(w.amount),
            "to_address": w.to_address,
            "from": self.from_status.value if self.from_status else None,
            "to": w.status.value,
            "reason": w.reason,
            "nonce": w.nonce,
            "tx_hash": w.tx_hash,
            "block_number": w.block_number,
            "fee": str(w.fee) if w.fee is not None else None,
        }


UNDERFUNDED_PREFIX = "hot wallet lacks gas"


@dataclass(frozen=True, slots=True)
class HotWalletUnderfunded(_OnWithdrawalStream):
    """Alert: the hot wallet has less ETH than a withdrawal's value plus its maximum gas cost."""

    topic: ClassVar[str] = "crypto.hot_wallet_underfunded"
    withdrawal: Withdrawal
    hot_address: str
    needed: int  # wei: value + gas limit × max fee per gas
    available: int  # wei on the hot wallet when checked

    def payload(self) -> dict[str, Any]:
        return {
            "chain_id": self.withdrawal.chain_id,
            "address": self.hot_address,
            "needed": str(self.needed),
            "available": str(self.available),
            "withdrawal_id": self.withdrawal.id,
            "severity": "alert",
        }


def note_underfunded(
    w: Withdrawal, hot_address: str, needed: int, available: int, at: dt.datetime
) -> tuple[Withdrawal, HotWalletUnderfunded | None]:
    """`w` with the shortfall as its reason (status unchanged); the alert only the first time."""
    reason = f"{UNDERFUNDED_PREFIX}: needs {needed} wei, has {available}"
    first = not w.reason.startswith(UNDERFUNDED_PREFIX)
    noted = replace(w, reason=reason, updated_at=at, version=w.version + 1)
    alert = HotWalletUnderfunded(noted, hot_address, needed, available) if first else None
    return noted, alert


def hold_id_for(withdrawal_id: str) -> str:
    """The ledger hold of a withdrawal: the same id whoever places it (rail or service)."""
    return f"crypto-withdrawal:{withdrawal_id}:hold"


def fee_transfer_id_for(withdrawal_id: str) -> str:
    """The ledger transfer booking the network fee a withdrawal's transaction paid."""
    return f"crypto-withdrawal:{withdrawal_id}:fee"


def require_checksummed(value: str) -> str:
    """`value` without surrounding blanks; it must carry a valid EIP-55 checksum."""
    if not isinstance(value, str):
        raise InvalidAddress("not a 20-byte hex address", address=str(value))
    candidate = value.strip()
    if not _HEX_ADDRESS.match(candidate):
        raise InvalidAddress("not a 20-byte hex address", address=candidate)
    checksummed = str(to_checksum_address(candidate))
    if candidate != checksummed:
        # all-lower or all-upper carries no checksum: a typo would go unnoticed, so refuse it
        raise InvalidAddress(
            "destination must be an EIP-55 checksummed address",
            address=candidate,
            expected=checksummed,
        )
    if checksummed == _ZERO_ADDRESS:
        raise InvalidAddress("destination is the zero address", address=candidate)
    return checksummed


def validate_request(chain: Chain, request: WithdrawalRequest) -> ValidatedRequest:
    """Check a request against the chain's registry entry; raise a CryptoRejection if it breaks."""
    if request.chain_id != chain.chain_id:
        raise InvalidWithdrawal("request is for another chain", chain_id=request.chain_id)
    if not request.withdrawal_id or len(request.withdrawal_id) > 100:
        raise InvalidWithdrawal("withdrawal id must have 1 to 100 characters")
    if not request.account_id:
        raise InvalidWithdrawal("a source ledger account is required")
    if isinstance(request.amount, bool) or not isinstance(request.amount, int):
        raise InvalidWithdrawal("amount must be an integer of base units")
    if request.amount <= 0:
        raise InvalidWithdrawal("amount must be positive", amount=str(request.amount))
    to_address = require_checksummed(request.to_address)
    wanted = request.asset.strip()
    if wanted.lower() == chain.native.symbol.lower():
        return ValidatedRequest(
            request, chain.native.symbol, None, chain.native.decimals, to_address
        )
    token = chain.token(wanted)  # UnknownToken for anything not listed
    return ValidatedRequest(request, token.symbol, token, token.decimals, to_address)


def to_base_units(amount: str, decimals: int) -> int:
    """'1.5' of a 6-decimals token is 1_500_000; more decimals than the asset has is refused."""
    with localcontext() as ctx:
        ctx.prec = 200  # exact for any amount an account can hold (10^78 and 36 decimals)
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise InvalidWithdrawal("amount is not a decimal number", amount=amount) from None
        if not value.is_finite() or value <= 0:
            raise InvalidWithdrawal("amount must be a positive number", amount=amount)
        if len(value.as_tuple().digits) > 120:
            raise InvalidWithdrawal("amount is too long", amount=amount[:40])
        units = value.scaleb(decimals)
        if units != units.to_integral_value():
            raise InvalidWithdrawal(
                "amount has more decimals than the asset", amount=amount, decimals=decimals
            )
        return int(units)


def transition(
    w: Withdrawal, to: WithdrawalStatus, at: dt.datetime, reason: str, **changes: Any
) -> tuple[Withdrawal, WithdrawalTransitioned]:
    """Move `w` to `to`, or raise WithdrawalStateConflict."""
    if to not in _NEXT[w.status]:
        raise WithdrawalStateConflict(
            f"a {w.status.value} withdrawal cannot become {to.value}",
            withdrawal_id=w.id,
            status=w.status.value,
            to=to.value,
        )
    moved = replace(w, status=to, reason=reason, updated_at=at, version=w.version + 1, **changes)
    return moved, WithdrawalTransitioned(moved, w.status)
