"""Payment orders and their transition history."""

__all__: list[str] = []
