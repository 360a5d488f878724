"""Confirmation of funds (PIIS): whether an account's available balance covers an amount."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from twinrail.platform.clock import Clock
from twinrail.sandbox.bank.domain.errors import FormatError, ResourceUnknown
from twinrail.sandbox.bank.domain.payments import parse_money
from twinrail.sandbox.bank.domain.validation import normalise_iban, require_object
from twinrail.sandbox.bank.service.payment_steps import available_balance
from twinrail.sandbox.bank.store.bank_store import BankStore

__all__ = ["FundsConfirmationService"]


class FundsConfirmationService:
    """Answers `fundsAvailable` from the bank's own books, as of its clock."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def funds_available(self, body: Any) -> bool:
        """POST /v1/funds-confirmations: whether interimAvailable covers the amount."""
        obj = require_object(body, "body")
        for key in ("account", "instructedAmount"):
            if key not in obj:
                raise FormatError(f"{key} is required")
        account_ref = require_object(obj["account"], "account")
        if "iban" not in account_ref:
            raise FormatError("account needs an iban")  # no BBAN, PAN or MSISDN at this bank
        iban = normalise_iban(account_ref["iban"], "account.iban")
        amount, currency = parse_money(obj["instructedAmount"], "instructedAmount")
        with self.engine.connect() as conn, conn.begin():
            bank = BankStore(conn)
            account = bank.account_by_iban(iban)
            if account is None:
                raise ResourceUnknown("the account is not held at this bank")
            if currency != account.currency:
                raise FormatError(f"the account is held in {account.currency}, not {currency}")
            history = bank.transactions_of(account.resource_id)
            return available_balance(account, history, self.clock().date()) >= amount
