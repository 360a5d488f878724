"""Pure screening model: entities, names, matching, the index, errors."""

__all__: list[str] = []
