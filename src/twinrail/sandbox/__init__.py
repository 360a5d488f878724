"""Sandbox counterparts the platform talks to over real protocols (bank, local chain node)."""

__all__: list[str] = []
