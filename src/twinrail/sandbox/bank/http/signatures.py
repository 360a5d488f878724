"""Message signatures at the bank: when its profile requires them, every /v1 request must be
signed with a QSealC of the same TPP as the QWAC it connected with.

The check needs the exact body bytes (for the Digest), so it is an ASGI middleware that buffers
the body and replays it to the routes. A request whose QWAC is not acceptable is passed through
untouched: the route's certificate check answers it, so that the TPP learns about its QWAC
first. Errors: SIGNATURE_MISSING / SIGNATURE_INVALID (401), and for the QSealC itself
CERTIFICATE_INVALID / _EXPIRED / _REVOKED (401) as for a QWAC.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from twinrail.openbanking.domain.certificates import check_tpp_certificate
from twinrail.openbanking.domain.errors import (
    CertificateInvalid,
    CertificateRejected,
    SignatureMissing,
    SignatureRejected,
)
from twinrail.openbanking.domain.http_signatures import (
    read_signature_certificate,
    verify_request_signature,
)
from twinrail.openbanking.domain.psd2 import Psd2Role, QcType
from twinrail.sandbox.bank.http.errors import tpp_error
from twinrail.sandbox.bank.http.security import TppAuthenticator

__all__ = ["SignatureCheck"]

Scope = dict[str, Any]
_ROLES_BY_PREFIX = (
    ("/v1/consents", Psd2Role.PSP_AI),
    ("/v1/accounts", Psd2Role.PSP_AI),
    ("/v1/funds-confirmations", Psd2Role.PSP_IC),
    ("/v1/payments", Psd2Role.PSP_PI),
    ("/v1/periodic-payments", Psd2Role.PSP_PI),
)


class SignatureCheck:
    """ASGI middleware verifying Digest, Signature and TPP-Signature-Certificate on /v1."""

    def __init__(self, app: Any, authenticator: TppAuthenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        request = Request(scope)
        try:
            await run_in_threadpool(self._check, request, body)
        except (SignatureRejected, CertificateRejected) as exc:
            response = tpp_error(request, exc.berlin_group_code, exc.message)
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _check(self, request: Request, body: bytes) -> None:
        try:
            qwac = self.authenticator.authenticate(request, _role_for(request.url.path))
        except CertificateRejected:
            return  # the route answers with the QWAC's own error
        headers = request.headers
        if "signature" not in headers:
            raise SignatureMissing("this bank requires a signature (Signature header)")
        value = headers.get("tpp-signature-certificate", "")
        if not value.strip():
            raise SignatureMissing("the TPP-Signature-Certificate header is missing")
        certificate = read_signature_certificate(value)
        seal = check_tpp_certificate(
            certificate,
            self.authenticator.trust(),
            now=self.authenticator.clock(),
            required_role=None,
            usage=QcType.ESEAL,
        )
        if seal.tpp_id != qwac.tpp_id:
            raise CertificateInvalid("the QSealC belongs to another TPP than the QWAC")
        target = scope_target(dict(request.scope))
        verify_request_signature(request.method, target, dict(headers), body, certificate)


def _role_for(path: str) -> Psd2Role | None:
    # The role the route will demand, so that a QWAC lacking it is left to the route to refuse.
    for prefix, role in _ROLES_BY_PREFIX:
        if path.startswith(prefix):
            return role
    return None


def scope_target(scope: Scope) -> str:
    """The request target (path and query) as it was sent."""
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


async def _read_body(receive: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return dict(await receive())

    return replay
