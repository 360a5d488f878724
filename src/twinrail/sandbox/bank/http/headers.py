"""Request headers and query parameters the spec requires, checked before any work is done, and
the X-Request-ID every response echoes."""

from __future__ import annotations

import ipaddress
import json
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from twinrail.openbanking.domain.certificates import TppCertificate
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.sandbox.bank.domain.errors import FormatError

__all__ = [
    "require_request_id",
    "psu_ip_address",
    "consent_id",
    "psu_id",
    "json_body",
    "bool_query",
    "tpp_with",
    "json_response",
]


def require_request_id(request: Request) -> str:
    """X-Request-ID: mandatory on every request, a UUID."""
    value = request.headers.get("x-request-id")
    if value is None:
        raise FormatError("X-Request-ID header is missing", location="header")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise FormatError("X-Request-ID must be a UUID", location="header") from None


def psu_ip_address(request: Request, *, required: bool) -> str | None:
    """PSU-IP-Address: its presence means the PSU is actively asking (not counted for AIS)."""
    value = request.headers.get("psu-ip-address")
    if value is None:
        if required:
            raise FormatError("PSU-IP-Address header is missing", location="header")
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise FormatError("PSU-IP-Address is not an IP address", location="header") from None


def consent_id(request: Request) -> str:
    """Consent-ID: mandatory on AIS data requests."""
    value = request.headers.get("consent-id", "").strip()
    if not value:
        raise FormatError("Consent-ID header is missing", location="header")
    return value


def psu_id(request: Request) -> str | None:
    """PSU-ID, if given."""
    value = request.headers.get("psu-id", "").strip()
    return value or None


async def json_body(request: Request, *, allow_empty: bool = False) -> Any:
    """The request body as JSON; FORMAT_ERROR for anything else."""
    raw = await request.body()
    if not raw.strip():
        if allow_empty:
            return {}
        raise FormatError("request body is missing")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"request body is not valid JSON: {exc}") from None


def bool_query(request: Request, name: str) -> bool:
    """A boolean query parameter (`true` / `false`), false when absent."""
    value = request.query_params.get(name)
    if value is None:
        return False
    if value not in ("true", "false"):
        raise FormatError(f"{name} must be true or false", location="query")
    return value == "true"


def tpp_with(request: Request, role: Psd2Role) -> TppCertificate:
    """The caller's QWAC checked for `role`, then the mandatory X-Request-ID."""
    # The certificate first: nothing about a request matters until we know who sent it.
    tpp = request.app.state.authenticator.authenticate(request, role)
    require_request_id(request)
    return tpp  # type: ignore[no-any-return]


def json_response(request: Request, body: Any, status: int = 200, **headers: str) -> JSONResponse:
    """`body` as JSON, echoing the request's X-Request-ID, with any further `headers`."""
    return JSONResponse(
        body, status_code=status, headers={"X-Request-ID": require_request_id(request), **headers}
    )
