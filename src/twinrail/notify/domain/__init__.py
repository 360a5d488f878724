"""notify domain."""

__all__: list[str] = []
