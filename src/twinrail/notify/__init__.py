"""notify: webhooks to client systems: signed, retried, dead-lettered, replayable."""

__all__: list[str] = []
