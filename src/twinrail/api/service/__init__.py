"""The api context's application layer: credentials, tokens, customers, idempotency."""

__all__: list[str] = []
