"""What every domain event looks like to the outbox: a topic, a stream and a JSON-ready payload."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

__all__ = ["DomainEvent"]


class DomainEvent(Protocol):
    """An immutable fact that a context publishes through the outbox."""

    topic: ClassVar[str]

    @property
    def stream_id(self) -> str: ...

    @property
    def stream_version(self) -> int: ...

    def payload(self) -> dict[str, Any]: ...
