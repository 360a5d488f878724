"""The TPP side of redirect, decoupled and exempted SCA: the preference headers read from a
request, and the `_links` / `scaStatus` / `psuMessage` a started authorisation answers with."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import Request

from twinrail.sandbox.bank.domain.authorisation import Authorisation, ScaApproach, ScaStatus
from twinrail.sandbox.bank.domain.errors import FormatError
from twinrail.sandbox.bank.http.views import href
from twinrail.sandbox.bank.service.sca_steps import ScaRequest

__all__ = ["sca_request", "sca_redirect_url", "add_sca_links", "sca_start_json"]

DECOUPLED_MESSAGE = "Please confirm in your banking app."


def _bool_header(request: Request, name: str) -> bool | None:
    value = request.headers.get(name)
    if value is None:
        return None
    if value.strip().lower() not in ("true", "false"):
        raise FormatError(f"{name} must be true or false", location="header")
    return value.strip().lower() == "true"


def _uri_header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    if value is None:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = urlsplit("")
    if parts.scheme not in ("https", "http") or not parts.netloc or len(value) > 500:
        raise FormatError(f"{name} must be an absolute http(s) URI", location="header")
    return value.strip()


def sca_request(request: Request) -> ScaRequest:
    """TPP-Redirect-Preferred, TPP-Decoupled-Preferred, TPP-Redirect-URI, TPP-Nok-Redirect-URI."""
    return ScaRequest(
        redirect_preferred=_bool_header(request, "tpp-redirect-preferred"),
        decoupled_preferred=_bool_header(request, "tpp-decoupled-preferred"),
        redirect_uri=_uri_header(request, "tpp-redirect-uri"),
        nok_redirect_uri=_uri_header(request, "tpp-nok-redirect-uri"),
    )


def sca_redirect_url(request: Request, auth: Authorisation) -> str:
    """Where the TPP sends the PSU's browser: the bank's login page for this authorisation."""
    base = getattr(request.app.state, "psu_base_url", None) or ""
    return f"{base.rstrip('/')}/psu/sca/{auth.authorisation_id}"


def add_sca_links(
    request: Request, body: dict[str, Any], auth: Authorisation, status_path: str
) -> dict[str, Any]:
    """`body` (a 201 of an initiation or consent) with the links and status of the
    authorisation the bank opened implicitly."""
    links = body["_links"]
    links.pop("startAuthorisationWithPsuAuthentication", None)
    if auth.sca_approach is ScaApproach.REDIRECT and not auth.sca_status.is_final:
        links["scaRedirect"] = href(sca_redirect_url(request, auth))
    links["scaStatus"] = href(status_path)
    body["scaStatus"] = auth.sca_status.value
    if auth.sca_status is ScaStatus.STARTED:
        body["psuMessage"] = DECOUPLED_MESSAGE
    return body


def sca_start_json(request: Request, auth: Authorisation, status_path: str) -> dict[str, Any]:
    """The 201 (startScaprocessResponse) of a redirect or decoupled authorisation start."""
    links: dict[str, Any] = {"scaStatus": href(status_path)}
    if auth.sca_approach is ScaApproach.REDIRECT:
        links["scaRedirect"] = href(sca_redirect_url(request, auth))
    body: dict[str, Any] = {
        "scaStatus": auth.sca_status.value,
        "authorisationId": auth.authorisation_id,
        "_links": links,
    }
    if auth.sca_status is ScaStatus.STARTED:
        body["psuMessage"] = DECOUPLED_MESSAGE
    return body
