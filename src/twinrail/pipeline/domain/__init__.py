"""Payment orders, their states and transitions, compliance decisions: pure values and rules."""

__all__: list[str] = []
