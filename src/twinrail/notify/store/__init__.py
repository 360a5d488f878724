"""notify store."""

__all__: list[str] = []
