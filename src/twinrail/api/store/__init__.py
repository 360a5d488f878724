"""The api context's persistence: clients, keys, customers, accounts, idempotency records."""

__all__: list[str] = []
