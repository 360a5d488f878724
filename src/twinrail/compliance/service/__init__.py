"""The compliance application layer."""

__all__: list[str] = []
