"""The response validator used by every test really rejects what the spec forbids."""

from __future__ import annotations

import uuid

import httpx
import pytest
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import ResponseValidationError

from tests.sandbox.spec_validation import validate_exchange


def exchange(status: int, body: object, path: str = "/v1/accounts") -> httpx.Response:
    request = httpx.Request("GET", f"https://bank.test{path}", headers={"Consent-ID": "c"})
    return httpx.Response(
        status, json=body, request=request, headers={"X-Request-ID": str(uuid.uuid4())}
    )


def test_a_spec_conformant_account_list_passes():
    validate_exchange(
        exchange(200, {"accounts": [{"currency": "EUR", "iban": "DE89370400440532013000"}]})
    )


@pytest.mark.parametrize(
    "status, body",
    [
        (200, {"accounts": [{"iban": "DE89370400440532013000"}]}),  # currency is required
        (200, {"account": []}),  # accounts is required
        (200, {"accounts": [{"currency": "EUR", "usage": "PRIVATE"}]}),  # not in the enum
        (401, {"tppMessages": [{"code": "CERTIFICATE_INVALID"}]}),  # category is required
        (401, {"tppMessages": [{"category": "FATAL", "code": "X"}]}),  # category enum
    ],
)
def test_a_shape_the_spec_forbids_fails(status, body):
    with pytest.raises(ResponseValidationError):
        validate_exchange(exchange(status, body))


def test_an_undocumented_status_fails():
    with pytest.raises(ResponseNotFound):
        validate_exchange(exchange(418, {"tppMessages": []}))
