"""Persistence of the crypto context: custody addresses and nonces (SQLAlchemy Core)."""

__all__: list[str] = []
