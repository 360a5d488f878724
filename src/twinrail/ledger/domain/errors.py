"""The ledger's error tree. Every leaf has a stable dotted `code` and structured `context`.

LedgerError
├── LedgerRejection              the request breaks a rule; nothing was changed
│   ├── InvalidTransfer          the transfer itself is malformed
│   │   ├── EmptyTransfer
│   │   ├── InvalidAmount
│   │   ├── UnbalancedTransfer
│   │   ├── AssetMismatch
│   │   └── DuplicateAccountInTransfer
│   ├── UnknownAsset / AssetAlreadyDefined / InvalidAsset
│   ├── UnknownAccount / AccountAlreadyExists / AccountClosed / AccountHasBalance
│   ├── LimitExceeded            a balance limit would be breached (no overdraft)
│   ├── BalanceOverflow
│   ├── IdempotencyConflict      same transfer id, different body
│   ├── UnknownTransfer
│   ├── HoldNotPending           already posted, voided or expired
│   ├── HoldAmountExceeded / PartialPostUnsupported
│   ├── NotReversible / AlreadyReversed
│   └── BatchRejected            a linked batch failed because of one item
└── LedgerFault                  infrastructure; the outcome is unknown or retryable
    ├── ConcurrentUpdate         (retryable) lost an optimistic-concurrency race
    └── StoreUnavailable         (retryable) the database could not be reached
"""

from __future__ import annotations

from twinrail.platform.errors import TwinrailError

__all__ = [
    "LedgerError",
    "LedgerRejection",
    "InvalidTransfer",
    "EmptyTransfer",
    "InvalidAmount",
    "UnbalancedTransfer",
    "AssetMismatch",
    "DuplicateAccountInTransfer",
    "UnknownAsset",
    "AssetAlreadyDefined",
    "InvalidAsset",
    "UnknownAccount",
    "AccountAlreadyExists",
    "AccountClosed",
    "AccountHasBalance",
    "InvalidAccount",
    "LimitExceeded",
    "BalanceOverflow",
    "IdempotencyConflict",
    "UnknownTransfer",
    "HoldNotPending",
    "HoldAmountExceeded",
    "PartialPostUnsupported",
    "NotReversible",
    "AlreadyReversed",
    "BatchRejected",
    "LedgerFault",
    "ConcurrentUpdate",
    "StoreUnavailable",
]


class LedgerError(TwinrailError):
    """Root of every error the ledger raises."""

    code = "ledger.error"


class LedgerRejection(LedgerError):
    """The request breaks a ledger rule; the ledger is unchanged."""

    code = "ledger.rejected"


class InvalidTransfer(LedgerRejection):
    """The transfer is malformed, whatever the state of the ledger."""

    code = "ledger.invalid_transfer"


class EmptyTransfer(InvalidTransfer):
    """A transfer has fewer than two postings."""

    code = "ledger.empty_transfer"


class InvalidAmount(InvalidTransfer):
    """An amount is zero, negative, too large, or finer than its asset's scale."""

    code = "ledger.invalid_amount"


class UnbalancedTransfer(InvalidTransfer):
    """Debits and credits differ for at least one asset."""

    code = "ledger.unbalanced_transfer"


class AssetMismatch(InvalidTransfer):
    """A posting names an asset other than its account's."""

    code = "ledger.asset_mismatch"


class DuplicateAccountInTransfer(InvalidTransfer):
    """A transfer debits and credits the same account."""

    code = "ledger.duplicate_account"


class UnknownAsset(LedgerRejection):
    """No asset has this code."""

    code = "ledger.unknown_asset"


class AssetAlreadyDefined(LedgerRejection):
    """An asset with this code exists with a different scale."""

    code = "ledger.asset_already_defined"


class InvalidAsset(LedgerRejection):
    """An asset code or scale is out of range."""

    code = "ledger.invalid_asset"


class UnknownAccount(LedgerRejection):
    """No account has this id."""

    code = "ledger.unknown_account"


class AccountAlreadyExists(LedgerRejection):
    """An account with this id exists with different attributes."""

    code = "ledger.account_already_exists"


class AccountClosed(LedgerRejection):
    """The account is closed and accepts no new postings."""

    code = "ledger.account_closed"


class AccountHasBalance(LedgerRejection):
    """An account cannot be closed while it holds a balance or pending amounts."""

    code = "ledger.account_has_balance"


class InvalidAccount(LedgerRejection):
    """An account's id, code or name is empty or too long."""

    code = "ledger.invalid_account"


class LimitExceeded(LedgerRejection):
    """The postings would take an account past its balance limit (counting pending debits)."""

    code = "ledger.limit_exceeded"


class BalanceOverflow(LedgerRejection):
    """An account total would exceed the largest storable amount."""

    code = "ledger.balance_overflow"


class IdempotencyConflict(LedgerRejection):
    """A transfer id was reused with a different body."""

    code = "ledger.idempotency_conflict"


class UnknownTransfer(LedgerRejection):
    """No transfer has this id."""

    code = "ledger.unknown_transfer"


class HoldNotPending(LedgerRejection):
    """The hold was already posted, voided or expired (or is not a hold)."""

    code = "ledger.hold_not_pending"


class HoldAmountExceeded(LedgerRejection):
    """A hold cannot be posted for more than it reserved."""

    code = "ledger.hold_amount_exceeded"


class PartialPostUnsupported(LedgerRejection):
    """Only holds of one debit and one credit can be posted for a smaller amount."""

    code = "ledger.partial_post_unsupported"


class NotReversible(LedgerRejection):
    """Only posted transfers can be reversed (void a pending hold instead)."""

    code = "ledger.not_reversible"


class AlreadyReversed(LedgerRejection):
    """The transfer was reversed before; a reversal is never repeated."""

    code = "ledger.already_reversed"


class BatchRejected(LedgerRejection):
    """A linked batch was rejected as a whole because of one item."""

    code = "ledger.batch_rejected"

    def __init__(self, index: int, cause: LedgerRejection) -> None:
        super().__init__(
            f"batch item {index} was rejected: {cause.message}",
            index=index,
            cause=cause.to_dict(),
        )
        self.index = index
        self.cause = cause


class LedgerFault(LedgerError):
    """An infrastructure fault; the operation may be retried."""

    code = "ledger.fault"
    retryable = True


class ConcurrentUpdate(LedgerFault):
    """Another writer changed the same stream first; retry the command."""

    code = "ledger.concurrent_update"


class StoreUnavailable(LedgerFault):
    """The database could not be reached or failed mid-transaction."""

    code = "ledger.store_unavailable"
