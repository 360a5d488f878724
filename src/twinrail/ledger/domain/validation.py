"""Field limits of a transfer command, checked before anything else looks at it.

The same limits hold on both databases (PostgreSQL would refuse an over-long id that SQLite
stores), and every violation is a typed rejection rather than a driver error.
"""

from __future__ import annotations

from twinrail.ledger.domain.commands import OpenAccount, PostTransfer
from twinrail.ledger.domain.errors import InvalidAccount, InvalidTransfer
from twinrail.ledger.domain.money import check_amount

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_REFERENCE_LENGTH",
    "MAX_TIMEOUT_SECONDS",
    "check_transfer_fields",
    "check_account_fields",
    "check_id",
]

MAX_ID_LENGTH = 64
MAX_REFERENCE_LENGTH = 200
MAX_TIMEOUT_SECONDS = 10 * 366 * 86_400  # ten years: longer is a mistake, not a hold


def check_transfer_fields(cmd: PostTransfer) -> None:
    """Raise a typed rejection if an id, reference, time, timeout or amount is out of range."""
    check_id(cmd.id)
    if len(cmd.reference) > MAX_REFERENCE_LENGTH:
        raise InvalidTransfer(
            f"reference is longer than {MAX_REFERENCE_LENGTH} characters", transfer_id=cmd.id
        )
    if cmd.effective_at is not None and cmd.effective_at.utcoffset() is None:
        raise InvalidTransfer("effective_at needs a time zone (use UTC)", transfer_id=cmd.id)
    if cmd.timeout_seconds is not None:
        if not cmd.pending:
            raise InvalidTransfer("a timeout only applies to holds", transfer_id=cmd.id)
        if not 0 < cmd.timeout_seconds <= MAX_TIMEOUT_SECONDS:
            raise InvalidTransfer(
                f"a hold timeout must be 1 to {MAX_TIMEOUT_SECONDS} seconds", transfer_id=cmd.id
            )
    for posting in cmd.postings:
        check_id(posting.account_id, what="account id")
        check_amount(posting.amount)


def check_id(value: str, *, what: str = "transfer id") -> None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise InvalidTransfer(f"a {what} must be 1 to {MAX_ID_LENGTH} characters")


def check_account_fields(cmd: OpenAccount) -> None:
    """Raise InvalidAccount if the id, code or name is empty or longer than it may be."""
    for what, value, limit in (
        ("id", cmd.id, MAX_ID_LENGTH),
        ("code", cmd.code, MAX_ID_LENGTH),
        ("name", cmd.name, MAX_REFERENCE_LENGTH),
    ):
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise InvalidAccount(f"an account {what} must be 1 to {limit} characters")
