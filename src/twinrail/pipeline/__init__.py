"""The one entry for every money movement: payment orders, their state machine, rails."""

__all__: list[str] = []
