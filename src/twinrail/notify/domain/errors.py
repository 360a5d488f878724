"""The notify context's error tree. Every leaf has a stable dotted `code` and structured `context`.

NotifyError
├── NotifyRejection              the request cannot be served as asked; nothing changed
│   ├── InvalidEndpoint          a URL that is not http(s), or an unknown event type
│   ├── UnknownEndpoint          no endpoint with this id for this client
│   ├── UnknownDelivery          no delivery with this id on this endpoint
│   ├── EndpointDisabled         the endpoint is disabled and cannot take this change
│   └── InvalidReplay            a replay naming neither one delivery nor a valid time range
└── NotifyFault                  infrastructure; retryable
    └── SecretKeyUnavailable     the key that encrypts endpoint secrets cannot be read
"""

from __future__ import annotations

from twinrail.platform.errors import TwinrailError

__all__ = [
    "NotifyError",
    "NotifyRejection",
    "InvalidEndpoint",
    "UnknownEndpoint",
    "UnknownDelivery",
    "EndpointDisabled",
    "InvalidReplay",
    "NotifyFault",
    "SecretKeyUnavailable",
]


class NotifyError(TwinrailError):
    """Root of every error the notify context raises."""

    code = "notify.error"


class NotifyRejection(NotifyError):
    """The request cannot be served as asked; nothing changed."""

    code = "notify.rejected"


class InvalidEndpoint(NotifyRejection):
    """Raised for a URL that is not absolute http(s) or an event type outside the catalogue."""

    code = "notify.invalid_endpoint"


class UnknownEndpoint(NotifyRejection):
    """Raised for an unknown endpoint id, and for another tenant's (never revealing it)."""

    code = "notify.unknown_endpoint"


class UnknownDelivery(NotifyRejection):
    """Raised for a delivery id that is not on the given endpoint."""

    code = "notify.unknown_delivery"


class EndpointDisabled(NotifyRejection):
    """Raised when a disabled endpoint is asked to rotate, replay or change its event types."""

    code = "notify.endpoint_disabled"


class InvalidReplay(NotifyRejection):
    """Raised for a replay naming neither or both of a delivery and a range, or since >= until."""

    code = "notify.invalid_replay"


class NotifyFault(NotifyError):
    """An infrastructure fault; the request may be retried."""

    code = "notify.fault"
    retryable = True


class SecretKeyUnavailable(NotifyFault):
    """Raised when the key that encrypts endpoint secrets is missing or malformed."""

    code = "notify.secret_key_unavailable"
