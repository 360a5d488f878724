"""Compliance persistence (SQLAlchemy Core)."""

__all__: list[str] = []
