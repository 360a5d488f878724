"""The one place where errors become HTTP: Berlin Group codes -> status, `tppMessages` bodies.

Statuses follow the NextGenPSD2 implementation guidelines' message-code table; where a code's
status depends on where the bad value was (RESOURCE_UNKNOWN, CONSENT_UNKNOWN) the error's
`location` decides.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from twinrail.openbanking.domain.errors import CertificateRejected
from twinrail.sandbox.bank.domain.errors import BankError

__all__ = ["STATUS_BY_CODE", "status_for", "tpp_error", "install_error_handlers", "request_id_of"]

log = logging.getLogger("twinrail.sandbox.bank")

STATUS_BY_CODE: dict[str, int] = {
    "FORMAT_ERROR": 400,
    "PARAMETER_NOT_CONSISTENT": 400,
    "PARAMETER_NOT_SUPPORTED": 400,
    "PERIOD_INVALID": 400,
    "TIMESTAMP_INVALID": 400,
    "SCA_METHOD_UNKNOWN": 400,
    "CERTIFICATE_INVALID": 401,
    "CERTIFICATE_EXPIRED": 401,
    "CERTIFICATE_BLOCKED": 401,
    "CERTIFICATE_REVOKED": 401,
    "CERTIFICATE_MISSING": 401,
    "ROLE_INVALID": 401,
    "SIGNATURE_INVALID": 401,
    "SIGNATURE_MISSING": 401,
    "PSU_CREDENTIALS_INVALID": 401,
    "CONSENT_INVALID": 401,
    "CONSENT_EXPIRED": 401,
    "SERVICE_BLOCKED": 403,
    "PRODUCT_INVALID": 403,
    "PRODUCT_UNKNOWN": 404,
    "SERVICE_INVALID": 405,
    "REQUESTED_FORMATS_INVALID": 406,
    "STATUS_INVALID": 409,
    "ACCESS_EXCEEDED": 429,
    "INTERNAL_SERVER_ERROR": 500,
}


def status_for(code: str, location: str = "payload") -> int:
    """The HTTP status for a Berlin Group message code raised about a value at `location`."""
    if code == "RESOURCE_UNKNOWN":
        return {"path": 404, "header": 403}.get(location, 400)
    if code == "CONSENT_UNKNOWN":
        return 400 if location == "payload" else 403
    return STATUS_BY_CODE.get(code, 400)


def request_id_of(request: Request) -> str:
    """The request's X-Request-ID if it is a UUID, else a fresh one (responses always carry one)."""
    value = request.headers.get("x-request-id", "")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return str(uuid.uuid4())


def tpp_error(request: Request, code: str, text: str, *, status: int | None = None) -> Response:
    """A NextGenPSD2 error response: `{"tppMessages": [{category, code, text}]}`."""
    body: dict[str, Any] = {
        "tppMessages": [{"category": "ERROR", "code": code, "text": text[:500]}]
    }
    return JSONResponse(
        body,
        status_code=status or status_for(code),
        headers={"X-Request-ID": request_id_of(request)},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure, including ones FastAPI raises itself, to a `tppMessages` response."""

    @app.exception_handler(BankError)
    async def _bank_error(request: Request, exc: BankError) -> Response:
        status = status_for(exc.berlin_group_code, exc.location)
        return tpp_error(request, exc.berlin_group_code, exc.message, status=status)

    @app.exception_handler(CertificateRejected)
    async def _certificate(request: Request, exc: CertificateRejected) -> Response:
        return tpp_error(request, exc.berlin_group_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return tpp_error(request, "FORMAT_ERROR", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return tpp_error(request, "RESOURCE_UNKNOWN", "no such endpoint", status=404)
        if exc.status_code == 405:
            return tpp_error(request, "SERVICE_INVALID", "method not allowed here", status=405)
        return tpp_error(request, "FORMAT_ERROR", str(exc.detail), status=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("sandbox bank failed", exc_info=exc)
        return tpp_error(request, "INTERNAL_SERVER_ERROR", "the bank failed", status=500)
