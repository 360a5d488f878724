"""The one place where errors become HTTP: RFC 9457 problem+json with a stable `type` per kind.

Every error class of every context maps here to a status and a title; its dotted `code` names
the `type` URI. The body carries the request id, never a stack trace, and for validation errors
the fields at fault (location and message, never the submitted value, which may be personal).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from twinrail.api.domain import errors as api
from twinrail.compliance.domain import errors as compliance
from twinrail.ledger.domain import errors as ledger
from twinrail.notify.domain import errors as notify
from twinrail.pipeline.domain import errors as pipeline

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_MEDIA_TYPE",
    "ERROR_STATUS",
    "problem_response",
    "problem_for_exception",
    "install_problem_handlers",
    "request_id_of",
]

PROBLEM_BASE = "https://twinrail.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
_log = logging.getLogger("twinrail.api")

# status and title per error class; a class not listed takes its nearest listed ancestor's
ERROR_STATUS: dict[type[Exception], tuple[int, str]] = {
    api.ApiError: (400, "Bad request"),
    api.ApiRejection: (400, "Bad request"),
    api.NotAuthenticated: (401, "Not authenticated"),
    api.InvalidClient: (401, "Invalid client"),
    api.UnsupportedGrantType: (400, "Unsupported grant type"),
    api.PermissionDenied: (403, "Permission denied"),
    api.ResourceNotFound: (404, "Not found"),
    api.InvalidCursor: (400, "Invalid cursor"),
    api.UnknownRole: (422, "Unknown role"),
    api.IdempotencyKeyMissing: (400, "Idempotency-Key required"),
    api.IdempotencyKeyReused: (422, "Idempotency-Key reused"),
    api.IdempotencyKeyInFlight: (409, "Request in progress"),
    api.RateLimited: (429, "Too many requests"),
    api.ApiFault: (503, "Service unavailable"),
    api.DependencyUnavailable: (503, "Service unavailable"),
    ledger.LedgerError: (400, "Ledger error"),
    ledger.LedgerRejection: (422, "Rejected by the ledger"),
    ledger.InvalidTransfer: (422, "Invalid transfer"),
    ledger.EmptyTransfer: (422, "Empty transfer"),
    ledger.InvalidAmount: (422, "Invalid amount"),
    ledger.UnbalancedTransfer: (422, "Unbalanced transfer"),
    ledger.AssetMismatch: (422, "Asset mismatch"),
    ledger.DuplicateAccountInTransfer: (422, "Duplicate account in transfer"),
    ledger.UnknownAsset: (422, "Unknown asset"),
    ledger.AssetAlreadyDefined: (409, "Asset already defined"),
    ledger.InvalidAsset: (422, "Invalid asset"),
    ledger.UnknownAccount: (404, "Not found"),
    ledger.AccountAlreadyExists: (409, "Account already exists"),
    ledger.InvalidAccount: (422, "Invalid account"),
    ledger.AccountClosed: (409, "Account closed"),
    ledger.AccountHasBalance: (409, "Account has a balance"),
    ledger.LimitExceeded: (422, "Insufficient funds"),
    ledger.BalanceOverflow: (422, "Balance overflow"),
    ledger.IdempotencyConflict: (422, "Transfer id reused"),
    ledger.UnknownTransfer: (404, "Not found"),
    ledger.HoldNotPending: (409, "Hold not pending"),
    ledger.HoldAmountExceeded: (422, "Hold amount exceeded"),
    ledger.PartialPostUnsupported: (422, "Partial post unsupported"),
    ledger.NotReversible: (409, "Not reversible"),
    ledger.AlreadyReversed: (409, "Already reversed"),
    ledger.BatchRejected: (422, "Batch rejected"),
    ledger.LedgerFault: (503, "Service unavailable"),
    ledger.ConcurrentUpdate: (503, "Concurrent update"),
    ledger.StoreUnavailable: (503, "Service unavailable"),
    pipeline.PipelineError: (400, "Pipeline error"),
    pipeline.PipelineRejection: (422, "Payment order rejected"),
    pipeline.InvalidOrder: (422, "Invalid payment order"),
    pipeline.UnknownOrder: (404, "Not found"),
    pipeline.RailNotEnabled: (422, "Rail not enabled"),
    pipeline.InvalidTransition: (409, "Invalid state transition"),
    pipeline.OrderNotCancellable: (409, "Order not cancellable"),
    notify.NotifyError: (400, "Webhook error"),
    notify.InvalidEndpoint: (422, "Invalid webhook endpoint"),
    notify.UnknownEndpoint: (404, "Not found"),
    notify.UnknownDelivery: (404, "Not found"),
    notify.EndpointDisabled: (409, "Webhook endpoint disabled"),
    notify.InvalidReplay: (422, "Invalid replay"),
    notify.NotifyFault: (503, "Service unavailable"),
    compliance.ComplianceError: (400, "Compliance error"),
    compliance.ComplianceRejection: (422, "Rejected by compliance"),
    compliance.CallbackSignatureInvalid: (401, "Invalid callback signature"),
    compliance.UnknownVerification: (404, "Not found"),
    compliance.UnknownCase: (404, "Not found"),
    compliance.InvalidCaseAction: (409, "Invalid case action"),
    compliance.FourEyesViolation: (403, "Four eyes required"),
    compliance.ComplianceFault: (503, "Service unavailable"),
}

_HTTP_CODES = {
    404: ("api.route_not_found", "Not found"),
    405: ("api.method_not_allowed", "Method not allowed"),
    413: ("api.payload_too_large", "Payload too large"),
    415: ("api.unsupported_media_type", "Unsupported media type"),
}


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def problem_response(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """An RFC 9457 response; `code` becomes the stable `type` URI."""
    request_id = request_id_of(request)
    body = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        "request_id": request_id,
        **extensions,
    }
    all_headers = dict(headers or {})
    if request_id:
        all_headers["X-Request-ID"] = request_id
    return JSONResponse(body, status, headers=all_headers, media_type=PROBLEM_MEDIA_TYPE)


def _status_of(exc: Exception) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 500, "Internal server error"


def problem_for_exception(request: Request, exc: Exception) -> JSONResponse:
    """The problem response for any exception (500 without details for unknown ones)."""
    if isinstance(exc, RequestValidationError):
        return _validation_problem(request, exc)
    if isinstance(exc, StarletteHTTPException):
        code, title = _HTTP_CODES.get(exc.status_code, ("api.http_error", "HTTP error"))
        return problem_response(request, exc.status_code, code, title, str(exc.detail))
    error_code = getattr(exc, "code", None)
    status, title = _status_of(exc)
    if status == 500 or not isinstance(error_code, str):
        _log.error("unhandled error", exc_info=exc, extra={"request_id": request_id_of(request)})
        return problem_response(
            request, 500, "api.internal_error", "Internal server error",
            "The server failed to complete the request; quote the request id to support.",
        )  # fmt: skip
    headers: dict[str, str] = {}
    extensions: dict[str, Any] = {}
    if isinstance(exc, api.RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
        headers["RateLimit-Limit"] = str(exc.limit)
        headers["RateLimit-Remaining"] = "0"
        headers["RateLimit-Reset"] = str(exc.retry_after)
    elif status == 503:
        headers["Retry-After"] = "1"
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="twinrail"'
    if isinstance(exc, api.ResourceNotFound) and "resource" in exc.context:
        extensions["resource"] = exc.context["resource"]
    detail = getattr(exc, "message", title)
    return problem_response(
        request, status, error_code, title, detail, headers=headers, **extensions
    )


def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [
        {
            "location": ".".join(str(part) for part in error.get("loc", ())),
            "message": error.get("msg", "invalid"),
            "type": error.get("type", "value_error"),
        }
        for error in exc.errors()
    ]
    return problem_response(
        request, 422, "api.validation_failed", "Validation failed",
        "The request has invalid fields; see `invalid_fields`.", invalid_fields=fields,
    )  # fmt: skip


def install_problem_handlers(app: FastAPI) -> None:
    """Route every exception through `problem_for_exception`."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return problem_for_exception(request, exc)

    handled = (
        RequestValidationError,
        StarletteHTTPException,
        api.ApiError,
        ledger.LedgerError,
        pipeline.PipelineError,
        notify.NotifyError,
        compliance.ComplianceError,
    )
    for cls in handled:
        app.add_exception_handler(cls, handle)
    app.add_exception_handler(Exception, handle)
