"""Withdrawal requests: validate, hold the customer's funds, record the withdrawal; and queries.

A request is validated against the chain registry (known chain and token, EIP-55 destination,
positive amount in base units), then the ledger hold is placed (the ledger refuses it when the
available balance is short), then the withdrawal is saved `held` with its event and audit
record. The hold comes first and has an id derived from the withdrawal id: a request retried
after a crash replays the same hold and then saves the withdrawal; a hold without a withdrawal
(a crash in between, or a rail that reserved and never submitted) is released by `release`.

From `held` on, the per-chain `WithdrawalProcessor` drives the withdrawal to the chain.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from twinrail.crypto.domain.chains import ChainRegistry
from twinrail.crypto.domain.withdrawals import (
    ValidatedRequest,
    Withdrawal,
    WithdrawalConflict,
    WithdrawalRequest,
    WithdrawalStateConflict,
    WithdrawalStatus,
    WithdrawalTransitioned,
    hold_id_for,
    validate_request,
)
from twinrail.crypto.service.withdrawal_books import WithdrawalBooks
from twinrail.crypto.store import withdrawal_store
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.uow import UnitOfWork

__all__ = ["WithdrawalService", "audit_transition"]


def audit_transition(uow: UnitOfWork, event: WithdrawalTransitioned) -> None:
    """Queue the event and its audit record on `uow` (the caller commits)."""
    w = event.withdrawal
    uow.publish([event])
    uow.audit(
        "crypto.withdrawal_transitioned",
        f"crypto_withdrawal:{w.id}",
        from_status=event.from_status.value if event.from_status else None,
        to_status=w.status.value,
        reason=w.reason,
        chain_id=w.chain_id,
        nonce=w.nonce,
        tx_hash=w.tx_hash,
    )


class WithdrawalService:
    """Takes withdrawal requests and answers what became of them."""

    def __init__(
        self,
        engine: Engine,
        ledger: LedgerService,
        registry: ChainRegistry,
        *,
        clock: Clock = utc_now,
        actor: str = "crypto.withdrawals",
    ) -> None:
        self._engine = engine
        self._ledger = ledger
        self._registry = registry
        self._clock = clock
        self._actor = actor
        self._books: dict[int, WithdrawalBooks] = {}

    def _books_for(self, chain_id: int) -> WithdrawalBooks:
        if chain_id not in self._books:
            self._books[chain_id] = WithdrawalBooks(self._ledger, self._registry.get(chain_id))
        return self._books[chain_id]

    def validate(self, request: WithdrawalRequest) -> ValidatedRequest:
        """The request checked against the registry; raises a CryptoRejection if it breaks."""
        return validate_request(self._registry.get(request.chain_id), request)

    def place_hold(self, request: WithdrawalRequest) -> str:
        """Hold the funds for `request` (idempotent); returns the hold id."""
        validated = self.validate(request)
        return self._books_for(request.chain_id).place_hold(validated).id

    def request(self, request: WithdrawalRequest) -> Withdrawal:
        """Validate, hold and record a withdrawal; the same request again returns it as it is."""
        existing = self.find(request.withdrawal_id)
        if existing is not None:
            return self._replayed(existing, request)
        validated = self.validate(request)
        hold = self._books_for(request.chain_id).place_hold(validated)
        now = self._clock()
        withdrawal = Withdrawal(
            id=request.withdrawal_id,
            account_id=request.account_id,
            chain_id=request.chain_id,
            asset=validated.asset,
            token=validated.token.address if validated.token else None,
            amount=request.amount,
            to_address=validated.to_address,
            status=WithdrawalStatus.HELD,
            hold_id=hold.id,
            reference=request.reference,
            created_at=now,
            updated_at=now,
            reason="funds held",
        )
        try:
            with self._uow(withdrawal.id) as uow:
                withdrawal_store.insert_withdrawal(uow.connection, withdrawal)
                audit_transition(uow, WithdrawalTransitioned(withdrawal, None))
                uow.commit()
        except IntegrityError:
            winner = self.find(request.withdrawal_id)  # a concurrent request with the same id
            if winner is None:
                raise
            return self._replayed(winner, request)
        return withdrawal

    def release(self, withdrawal_id: str, chain_id: int) -> None:
        """Void the hold of a withdrawal that was never recorded (a reservation not submitted).

        A recorded withdrawal is the processor's to settle: its hold may already back a signed
        transaction, so releasing it here is refused.
        """
        existing = self.find(withdrawal_id)
        if existing is not None:
            if existing.is_terminal:
                return
            raise WithdrawalStateConflict(
                "the withdrawal is on its way; its hold cannot be released now",
                withdrawal_id=withdrawal_id,
                status=existing.status.value,
            )
        self._books_for(chain_id).void_hold(hold_id_for(withdrawal_id))

    def find(self, withdrawal_id: str) -> Withdrawal | None:
        with UnitOfWork(self._engine) as uow:
            return withdrawal_store.get(uow.connection, withdrawal_id)

    def recent(
        self, *, chain_id: int | None = None, status: str | None = None, limit: int = 100
    ) -> list[Withdrawal]:
        """The newest withdrawals first."""
        with UnitOfWork(self._engine) as uow:
            return withdrawal_store.list_withdrawals(
                uow.connection, chain_id=chain_id, status=status, limit=limit
            )

    def _replayed(self, existing: Withdrawal, request: WithdrawalRequest) -> Withdrawal:
        if not existing.same_request(self.validate(request)):
            raise WithdrawalConflict(
                "withdrawal id already used for a different request",
                withdrawal_id=request.withdrawal_id,
            )
        return existing

    def _uow(self, withdrawal_id: str) -> UnitOfWork:
        return UnitOfWork(
            self._engine, actor=self._actor, correlation_id=withdrawal_id, clock=self._clock
        )
