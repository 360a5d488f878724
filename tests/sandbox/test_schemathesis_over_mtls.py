"""schemathesis against the live bank over mutual TLS with a valid QWAC: whatever the official
definition lets a client send, the bank never answers with a 5xx, and every answer it gives is
one the definition allows (checked like every other bank response in these tests).

Bounded to a few examples per operation so that the whole run stays well under a minute; the
operations the bank implements (consents, accounts, payments of every service, funds
confirmation) are exercised. schemathesis generates the requests; httpx sends them, so that the
answers go through the same spec validation as the rest of the suite.
"""

from __future__ import annotations

import ssl

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, reject, settings

from tests.openbanking.pki_builders import issue_tpp
from tests.sandbox.spec_validation import SPEC_PATH, validate_exchange
from twinrail.openbanking.domain.psd2 import Psd2Role

_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
schema = schemathesis.openapi.from_dict(yaml.load(SPEC_PATH.read_text(), Loader=_loader)).include(
    path_regex=r"^/v1/(consents|accounts|funds-confirmations|\{payment-service\})"
)


@pytest.fixture(scope="module")
def tpp_client(qtsp, bank_url):
    """One keep-alive client presenting a QWAC with every role, trusting the sandbox QTSP."""
    roles = (Psd2Role.PSP_AI, Psd2Role.PSP_PI, Psd2Role.PSP_IC)
    qwac = issue_tpp(qtsp, "schemathesis-tpp", roles)
    context = ssl.create_default_context(cafile=str(qtsp.ca_bundle_path))
    context.load_cert_chain(str(qwac.cert_path), str(qwac.key_path))
    with httpx.Client(base_url=bank_url, verify=context, timeout=10) as client:
        yield client


def send(client: httpx.Client, case, base_url: str) -> httpx.Response:
    """The generated request, sent as schemathesis built it."""
    kwargs = case.as_transport_kwargs(base_url=base_url)
    request = client.build_request(
        kwargs["method"], kwargs["url"], headers=kwargs.get("headers"), params=kwargs.get("params"),
        json=kwargs.get("json"), content=kwargs.get("data") or kwargs.get("content"),
    )  # fmt: skip
    try:
        return client.send(request)
    except httpx.LocalProtocolError:
        reject()  # a header value HTTP itself forbids (e.g. a trailing tab): no client sends it
        raise


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],  # the definition's own examples number in the thousands
    suppress_health_check=list(HealthCheck),
)
def test_any_request_the_definition_allows_gets_a_spec_conformant_answer_and_no_5xx(
    case, tpp_client, bank_url
):
    response = send(tpp_client, case, bank_url)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
    validate_exchange(response)
