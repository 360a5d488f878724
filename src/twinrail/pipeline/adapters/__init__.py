"""Rails and the interim compliance decider."""

__all__: list[str] = []
