"""notify service."""

__all__: list[str] = []
