"""Every route × every role: allowed exactly when the role holds the route's declared permission."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from twinrail.api.domain.roles import ROLE_PERMISSIONS, Permission, Role
from twinrail.api.idempotent_route import IDEMPOTENCY_EXEMPT

from .conftest import Caller, new_caller

BODIES = {
    ("POST", "/v1/customers"): {"kind": "individual", "name": "Matrix Person"},
    ("POST", "/v1/accounts"): {"customer_id": "cus_missing", "asset": "EUR"},
    ("POST", "/v1/clients"): {"name": "matrix client", "role": "auditor"},
    ("POST", "/v1/api-keys"): {"name": "matrix key"},
    ("POST", "/v1/compliance/customers/{customer_id}/kyc/verifications"): {"tier": 1},
    ("PUT", "/v1/compliance/customers/{customer_id}/beneficial-owners"): {"owners": []},
    ("POST", "/v1/compliance/customers/{customer_id}/false-positives"): {
        "hit_id": 1,
        "reason": "matrix",
    },  # fmt: skip
    ("POST", "/v1/compliance/cases/{case_id}/assignment"): {"assignee": "matrix"},
    ("POST", "/v1/compliance/cases/{case_id}/comments"): {"body": "matrix"},
    ("POST", "/v1/compliance/cases/{case_id}/attachments"): {
        "uri": "s3://matrix",
        "sha256": "0" * 64,
    },  # fmt: skip
    ("POST", "/v1/compliance/cases/{case_id}/decisions"): {
        "verdict": "block",
        "reasons": ["matrix"],
    },  # fmt: skip
    ("POST", "/v1/compliance/cases/{case_id}/decisions/{decision_id}/approvals"): {},
}
# Routes a provider authorises with an HMAC signature instead of a bearer token: every caller
# without one is refused with 401, whatever its role.
SIGNED = "provider_signature"
# A path parameter whose value is checked against a fixed set.
PATH_VALUES = {"action": "approve"}


def _routes(client: TestClient) -> list[tuple[str, str, str]]:
    """(method, path, declared permission) for every operation the app serves."""
    schema = client.get("/openapi.json").json()
    return [
        (method.upper(), path, operation.get("x-permission"))
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_every_route_declares_a_permission(sqlite_client: TestClient) -> None:
    routes = _routes(sqlite_client)
    assert len(routes) >= 14
    for method, path, permission in routes:
        assert permission is not None, f"{method} {path} declares no permission"
        assert permission in ("public", SIGNED) or permission in {p.value for p in Permission}
        if path.startswith("/v1"):
            assert permission != "public", f"{method} {path} is versioned yet public"


def test_every_role_holds_or_lacks_each_route_as_the_matrix_says(
    sqlite_client: TestClient,
) -> None:
    callers = {role: new_caller(sqlite_client, role) for role in Role}
    checked = 0
    for method, path, permission in _routes(sqlite_client):
        url = re.sub(r"\{([^}]+)\}", lambda m: PATH_VALUES.get(m.group(1), "does_not_exist"), path)
        for role, caller in callers.items():
            status = _call(sqlite_client, caller, method, url, path).status_code
            assert status < 500, f"{role} {method} {path} -> {status}"
            if permission == SIGNED:
                assert status == 401, f"{role} {method} {path} unsigned -> {status}"
                checked += 1
                continue
            allowed = permission == "public" or Permission(permission) in ROLE_PERMISSIONS[role]
            if allowed:
                assert status not in (401, 403), f"{role} should reach {method} {path}: {status}"
            else:
                assert status == 403, f"{role} must be refused {method} {path}, got {status}"
            checked += 1
    assert checked == len(_routes(sqlite_client)) * len(Role)


def test_every_post_except_the_token_endpoint_demands_an_idempotency_key(
    sqlite_client: TestClient,
) -> None:
    schema = sqlite_client.get("/openapi.json").json()
    for path, item in schema["paths"].items():
        if "post" not in item or path in IDEMPOTENCY_EXEMPT:
            continue
        if item["post"].get("x-permission") == SIGNED:
            continue  # a provider's callback: replay-safe by its event id instead
        names = {p["name"] for p in item["post"].get("parameters", [])}
        assert "Idempotency-Key" in names, path


@pytest.mark.parametrize("credential", ["", "Bearer", "Bearer junk", "Basic abc", "Bearer trk_x"])
def test_a_missing_or_bad_credential_answers_401_problem(
    sqlite_client: TestClient, credential: str
) -> None:
    response = sqlite_client.get("/v1/customers", headers={"Authorization": credential})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "api.not_authenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def _call(client: TestClient, caller: Caller, method: str, url: str, path: str):  # type: ignore[no-untyped-def]
    headers = {**caller.headers, "Idempotency-Key": f"matrix-{caller.role}-{method}-{url}"}
    if path == "/oauth/token":
        form = {"grant_type": "client_credentials", "client_id": caller.client_id,
                "client_secret": caller.client_secret}  # fmt: skip
        return client.post("/oauth/token", data=form)
    return client.request(method, url, headers=headers, json=BODIES.get((method, path)))
