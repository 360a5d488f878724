"""Which customer a ledger account belongs to, for the platform's own consumers.

Other contexts' events name ledger accounts (a credited deposit names the account credited);
compliance's rules know customers. This answers compliance's `CustomerOfAccount` port from the
API's customer accounts, without a tenant: it serves workers, never a client request, and
returns an id only.
"""

from __future__ import annotations

from sqlalchemy import Engine

from twinrail.api.store.api_store import ApiStore
from twinrail.platform.db import READ_ONLY

__all__ = ["AccountOwners"]


class AccountOwners:
    """Ledger account id → the customer id whose API account it backs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def customer_of(self, ledger_account_id: str) -> str | None:
        """The customer owning the account backed by `ledger_account_id`, or None."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            account = ApiStore(conn).account_of_ledger_account(ledger_account_id)
        return account.customer_id if account else None
