"""Shared kernel: engines and column types, the unit of work, the outbox and the event bus."""
