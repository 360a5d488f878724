"""The api context's error tree. Every leaf has a stable dotted `code` and structured `context`.

ApiError
├── ApiRejection                  the request cannot be served as asked; nothing changed
│   ├── NotAuthenticated          no credential, or one that is invalid, expired or revoked
│   ├── InvalidClient             OAuth2 client authentication failed at the token endpoint
│   ├── UnsupportedGrantType      OAuth2 grant other than client_credentials
│   ├── PermissionDenied          the caller's role lacks the permission the route declares
│   ├── ResourceNotFound          unknown id, or one that belongs to another tenant
│   ├── InvalidCursor             a pagination cursor that this API did not issue
│   ├── UnknownRole               a role name outside the RBAC roles
│   ├── IdempotencyKeyMissing     a POST without an Idempotency-Key header
│   ├── IdempotencyKeyReused      the same key with a different request body
│   ├── IdempotencyKeyInFlight    the same key while its first request is still running
│   └── RateLimited               the client's token bucket is empty
└── ApiFault                      infrastructure; retryable
    └── DependencyUnavailable     the database or the bus cannot be reached
"""

from __future__ import annotations

from twinrail.platform.errors import TwinrailError

__all__ = [
    "ApiError",
    "ApiRejection",
    "NotAuthenticated",
    "InvalidClient",
    "UnsupportedGrantType",
    "PermissionDenied",
    "ResourceNotFound",
    "InvalidCursor",
    "UnknownRole",
    "IdempotencyKeyMissing",
    "IdempotencyKeyReused",
    "IdempotencyKeyInFlight",
    "RateLimited",
    "ApiFault",
    "DependencyUnavailable",
]


class ApiError(TwinrailError):
    """Root of every error the api context raises."""

    code = "api.error"


class ApiRejection(ApiError):
    """The request cannot be served as asked; nothing was changed."""

    code = "api.rejected"


class NotAuthenticated(ApiRejection):
    """Raised when a request carries no credential or one that is invalid, expired or revoked."""

    code = "api.not_authenticated"


class InvalidClient(ApiRejection):
    """Raised when OAuth2 client authentication fails (unknown client or wrong secret)."""

    code = "api.invalid_client"


class UnsupportedGrantType(ApiRejection):
    """Raised when the token endpoint is asked for a grant other than client_credentials."""

    code = "api.unsupported_grant_type"


class PermissionDenied(ApiRejection):
    """Raised when the caller's role lacks the permission a route declares."""

    code = "api.permission_denied"


class ResourceNotFound(ApiRejection):
    """Raised for an unknown id, and for another tenant's id (never revealing it exists)."""

    code = "api.not_found"


class InvalidCursor(ApiRejection):
    """Raised when a pagination cursor was not issued by this API."""

    code = "api.invalid_cursor"


class UnknownRole(ApiRejection):
    """Raised when a client is created with a role outside the RBAC roles."""

    code = "api.unknown_role"


class IdempotencyKeyMissing(ApiRejection):
    """Raised when a POST arrives without an Idempotency-Key header."""

    code = "api.idempotency_key_missing"


class IdempotencyKeyReused(ApiRejection):
    """Raised when an Idempotency-Key is reused with a different method, path or body."""

    code = "api.idempotency_key_reused"


class IdempotencyKeyInFlight(ApiRejection):
    """Raised when an Idempotency-Key arrives while its first request is still running."""

    code = "api.idempotency_key_in_flight"


class RateLimited(ApiRejection):
    """Raised when the client's token bucket is empty; `retry_after` is in whole seconds."""

    code = "api.rate_limited"

    def __init__(self, message: str, *, retry_after: int, limit: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after
        self.limit = limit


class ApiFault(ApiError):
    """An infrastructure fault; the request may be retried."""

    code = "api.fault"
    retryable = True


class DependencyUnavailable(ApiFault):
    """Raised when the database or the bus cannot be reached."""

    code = "api.dependency_unavailable"
