"""Persistence of the sandbox bank (its own SQLite database)."""

from twinrail.sandbox.bank.store.bank_store import BankStore, create_schema, reset_schema

__all__ = ["BankStore", "create_schema", "reset_schema"]
