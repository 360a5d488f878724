"""The PSU-facing pages of the sandbox bank, server-rendered with jinja2: the redirect SCA
(login, "send code", OTP bound to amount and payee, and a standing order's schedule, back
to the TPP with 303), the simulated banking app that approves decoupled SCAs, and a sandbox
phone that shows the SMS codes.

They are a separate ASGI app, served on the bank's PSU port: TLS with the bank's server
certificate but no client certificate, as a browser reaches a bank's online banking, while the
/v1 API keeps requiring a QWAC on its own port.

The browser that logged in gets a session cookie bound to the authorisation and the PSU (an
HMAC under a key of this process); the later steps (send code, enter OTP) need it, so that a
leaked `scaRedirect` link is useless to anyone who did not log in. Cancel needs no session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from twinrail.sandbox.bank.domain.authorisation import ScaStatus
from twinrail.sandbox.bank.domain.errors import BankError, PsuCredentialsInvalid
from twinrail.sandbox.bank.http.errors import status_for
from twinrail.sandbox.bank.service.psu_sca_service import PsuScaService, ScaView

__all__ = ["create_psu_app"]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
}
SESSION_COOKIE = "twinrail_sca_session"
_PAGE_BY_STATUS = {
    ScaStatus.RECEIVED: "login.html",
    ScaStatus.PSU_IDENTIFIED: "login.html",
    ScaStatus.PSU_AUTHENTICATED: "review.html",
    ScaStatus.SCA_METHOD_SELECTED: "otp.html",
}


def _render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status)
    response.headers.update(_SECURITY_HEADERS)
    return response


def _page(request: Request, view: ScaView) -> Response:
    """The page for the authorisation's current status; final ones go back to the TPP."""
    auth = view.authorisation
    template = _PAGE_BY_STATUS.get(auth.sca_status, "done.html")
    status = 401 if view.error and template != "done.html" else 200
    return _render(
        request, template, status, auth=auth, challenge=view.challenge, error=view.error,
        return_uri=view.return_uri,
    )  # fmt: skip


def _after_step(request: Request, view: ScaView) -> Response:
    """303 back to the TPP once the SCA has ended, to the next page otherwise."""
    auth = view.authorisation
    if auth.sca_status.is_final and view.return_uri:
        return RedirectResponse(view.return_uri, status_code=303, headers=_SECURITY_HEADERS)
    if view.error is not None:
        return _page(request, view)
    return RedirectResponse(
        f"/psu/sca/{auth.authorisation_id}", status_code=303, headers=_SECURITY_HEADERS
    )


def _session_token(key: bytes, authorisation_id: str, psu_id: str) -> str:
    return hmac.new(key, f"{authorisation_id}\x1f{psu_id}".encode(), hashlib.sha256).hexdigest()


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def create_psu_app(sca: PsuScaService, *, show_sandbox_phone: bool = True) -> FastAPI:
    """The PSU pages over `sca`; the sandbox phone only when `show_sandbox_phone`."""
    app = FastAPI(title="sandbox bank: PSU pages", docs_url=None, redoc_url=None, openapi_url=None)
    session_key = secrets.token_bytes(32)

    async def require_session(request: Request, authorisation_id: str) -> None:
        """The browser must be the one that logged in to this authorisation."""
        view = await run_in_threadpool(sca.view, authorisation_id)
        auth = view.authorisation
        if auth.sca_status.is_final or auth.psu_id is None:
            return  # the step itself reports the ended SCA
        expected = _session_token(session_key, authorisation_id, auth.psu_id)
        if not hmac.compare_digest(request.cookies.get(SESSION_COOKIE, ""), expected):
            raise PsuCredentialsInvalid("please log in again in this browser", location="path")

    @app.exception_handler(BankError)
    async def _bank_error(request: Request, exc: BankError) -> Response:
        status = status_for(exc.berlin_group_code, exc.location)
        return _render(request, "error.html", status, message=exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _render(request, "error.html", exc.status_code, message=str(exc.detail))

    @app.get("/psu/sca/{authorisation_id}")
    async def sca_page(authorisation_id: str, request: Request) -> Response:
        return _page(request, await run_in_threadpool(sca.view, authorisation_id))

    @app.post("/psu/sca/{authorisation_id}/login")
    async def login(authorisation_id: str, request: Request) -> Response:
        form = await _form(request)
        psu_id, password = form.get("psu_id", "").strip(), form.get("password", "")
        view = await run_in_threadpool(sca.log_in, authorisation_id, psu_id, password)
        response = _after_step(request, view)
        if view.authorisation.sca_status is ScaStatus.PSU_AUTHENTICATED:
            response.set_cookie(
                SESSION_COOKIE, _session_token(session_key, authorisation_id, psu_id),
                path=f"/psu/sca/{authorisation_id}", secure=True, httponly=True, samesite="lax",
            )  # fmt: skip
        return response

    @app.post("/psu/sca/{authorisation_id}/send-code")
    async def send_code(authorisation_id: str, request: Request) -> Response:
        await require_session(request, authorisation_id)
        return _after_step(request, await run_in_threadpool(sca.send_code, authorisation_id))

    @app.post("/psu/sca/{authorisation_id}/otp")
    async def otp(authorisation_id: str, request: Request) -> Response:
        await require_session(request, authorisation_id)
        code = (await _form(request)).get("otp", "")
        return _after_step(request, await run_in_threadpool(sca.enter_otp, authorisation_id, code))

    @app.post("/psu/sca/{authorisation_id}/cancel")
    async def cancel(authorisation_id: str, request: Request) -> Response:
        return _after_step(request, await run_in_threadpool(sca.cancel, authorisation_id))

    @app.get("/psu/app/{psu_id}")
    async def banking_app(psu_id: str, request: Request) -> Response:
        pending = await run_in_threadpool(sca.pending_in_app, psu_id)
        notice = request.query_params.get("notice")
        return _render(request, "app.html", psu_id=psu_id, pending=pending, notice=notice)

    @app.post("/psu/app/{psu_id}/{authorisation_id}/{decision}")
    async def decide(psu_id: str, authorisation_id: str, decision: str) -> Response:
        if decision not in ("approve", "reject"):
            raise StarletteHTTPException(404, "no such decision")
        approve = decision == "approve"
        await run_in_threadpool(sca.decide_in_app, psu_id, authorisation_id, approve=approve)
        notice = "approved" if approve else "rejected"
        return RedirectResponse(
            f"/psu/app/{psu_id}?notice={notice}", status_code=303, headers=_SECURITY_HEADERS
        )

    if show_sandbox_phone:

        @app.get("/psu/phone/{psu_id}", response_class=HTMLResponse)
        async def sandbox_phone(psu_id: str, request: Request) -> Response:
            messages = await run_in_threadpool(sca.sandbox_sms, psu_id)
            return _render(request, "phone.html", psu_id=psu_id, messages=messages)

    return app
