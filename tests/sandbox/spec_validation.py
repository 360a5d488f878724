"""Validate every bank response against the official NextGenPSD2 1.3.11 OpenAPI definition.

One deliberate adjustment: the spec's response `oneOf`s (e.g. OK_200_UpdatePsuData) list branches
that all accept `{"scaStatus": ...}`, so a strict `oneOf` rejects every correct answer. Those are
read as `anyOf`: each branch keeps all of its constraints, only the exclusivity is dropped.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path("/work/shared/spec/berlin-group/psd2-api-1.3.11.yaml")
SPEC_HOST, SPEC_BASE_PATH = "https://api.testbank.com", "/psd2"  # the spec's first server

__all__ = ["bank_spec", "validate_exchange", "SPEC_PATH"]


def _relax_response_one_of(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    for response in spec["components"]["responses"].values():
        for media in (response.get("content") or {}).values():
            schema = media.get("schema") or {}
            if "oneOf" in schema:
                schema["anyOf"] = schema.pop("oneOf")
    return spec


@lru_cache(maxsize=1)
def bank_spec() -> OpenAPI:
    """The official definition, loaded once per test session."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(SPEC_PATH.read_text(), Loader=loader)  # noqa: S506 - a safe loader
    # The definition itself is not re-validated on every run (3 s); it is the published one.
    return OpenAPI.from_dict(_relax_response_one_of(raw), config=Config(spec_validator_cls=None))


@dataclass
class _Request:
    method: str
    host_url: str
    path: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters = field(default_factory=RequestParameters)


@dataclass
class _Response:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes | None


def validate_exchange(response: httpx.Response) -> None:
    """Raise if `response` (to its request) is not what the spec allows."""
    request = response.request
    url = urlsplit(str(request.url))
    query = ImmutableMultiDict(httpx.QueryParams(url.query).multi_items())
    req = _Request(
        method=request.method.lower(),
        host_url=SPEC_HOST,
        path=SPEC_BASE_PATH + url.path,
        body=request.content or None,
        content_type=request.headers.get("content-type", "application/json"),
        parameters=RequestParameters(query=query, header=Headers(list(request.headers.items()))),
    )
    response.read()
    resp = _Response(
        status_code=response.status_code,
        content_type=response.headers.get("content-type", "").split(";")[0],
        headers=Headers(list(response.headers.items())),
        data=response.content or None,
    )
    try:
        bank_spec().validate_response(req, resp)
    except (PathNotFound, OperationNotFound):
        # No operation to validate against (unknown endpoint or method): the answer must still
        # be a NextGenPSD2 error (the shape every ErrorNNN_NG_* schema shares).
        _check_tpp_messages(response)


def _check_tpp_messages(response: httpx.Response) -> None:
    if response.status_code < 400:
        raise AssertionError(f"success for an operation the spec lacks: {response.request.url}")
    messages = response.json().get("tppMessages")
    if not isinstance(messages, list) or not messages:
        raise AssertionError(f"error without tppMessages: {response.text}")
    for message in messages:
        if message.get("category") not in ("ERROR", "WARNING") or not isinstance(
            message.get("code"), str
        ):
            raise AssertionError(f"malformed tppMessage: {message}")
