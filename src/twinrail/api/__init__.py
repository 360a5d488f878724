"""The public HTTP API: auth, RBAC, idempotency keys, rate limits, problem+json, OpenAPI."""

__all__: list[str] = []
