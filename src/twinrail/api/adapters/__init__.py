"""The api context's adapters: rate-limit buckets in memory or in Redis."""

__all__: list[str] = []
