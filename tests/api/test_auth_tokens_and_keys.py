"""OAuth2 client credentials, ES256 JWTs and their rotation, and API keys."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import Engine

from twinrail.api.app import create_app
from twinrail.api.domain.errors import NotAuthenticated
from twinrail.api.domain.roles import Role
from twinrail.api.service.tokens import TokenService
from twinrail.api.settings import ApiSettings

from .conftest import make_platform, new_caller


def _kid(token: str) -> str:
    segment = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))["kid"])


def test_a_token_is_an_es256_jwt_verifiable_with_the_published_jwks(
    sqlite_client: TestClient,
) -> None:
    caller = new_caller(sqlite_client, Role.OPERATOR)
    jwks = sqlite_client.get("/.well-known/jwks.json").json()
    assert all("d" not in key for key in jwks["keys"])  # never the private part
    decoded = jwt.decode(caller.token, KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"
    assert decoded.claims["sub"] == caller.client_id and decoded.claims["role"] == "operator"
    assert decoded.claims["exp"] - decoded.claims["iat"] == 300


def test_http_basic_client_authentication_works_and_a_wrong_secret_does_not(
    sqlite_client: TestClient,
) -> None:
    caller = new_caller(sqlite_client, Role.AUDITOR)
    basic = base64.b64encode(f"{caller.client_id}:{caller.client_secret}".encode()).decode()
    ok = sqlite_client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert ok.status_code == 200 and ok.json()["token_type"] == "Bearer"
    wrong = sqlite_client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": caller.client_id,
              "client_secret": "nope"},
    )  # fmt: skip
    assert wrong.status_code == 401 and wrong.json()["code"] == "api.invalid_client"
    assert caller.client_secret not in wrong.text
    grant = sqlite_client.post("/oauth/token", data={"grant_type": "password"})
    assert grant.status_code == 400 and grant.json()["code"] == "api.unsupported_grant_type"


def test_rotation_keeps_old_tokens_valid_until_they_expire(sqlite_engine: Engine) -> None:
    now = [dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)]
    app = create_app(make_platform(sqlite_engine), ApiSettings(), clock=lambda: now[0])
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = new_caller(client, Role.ADMIN)
        rotated = client.post(
            "/v1/signing-keys/rotate",
            headers={**admin.headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert rotated.status_code == 200
        fresh = new_caller(client, Role.ADMIN)
        assert _kid(fresh.token) == rotated.json()["kid"] != _kid(admin.token)
        assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 2
        assert client.get("/v1/clients", headers=admin.headers).status_code == 200
        now[0] += dt.timedelta(seconds=310)  # past expiry and its 5 s leeway
        expired = client.get("/v1/clients", headers=admin.headers)
        assert expired.status_code == 401
        now[0] += dt.timedelta(seconds=60)
        keys = client.get("/.well-known/jwks.json").json()["keys"]
        assert [k["kid"] for k in keys] == [rotated.json()["kid"]]
        fresh = new_caller(client, Role.ADMIN)
        assert client.get("/v1/clients", headers=fresh.headers).status_code == 200


def test_another_process_verifies_tokens_signed_with_a_key_it_has_not_seen(
    sqlite_engine: Engine,
) -> None:
    one = TokenService(sqlite_engine, issuer="twinrail")
    two = TokenService(sqlite_engine, issuer="twinrail")
    one.ensure_signing_key()
    two.ensure_signing_key()  # caches the first key
    one.rotate(actor="test")
    from twinrail.api.service.credentials import CredentialService

    client = CredentialService(sqlite_engine).create_client("x", Role.CLIENT).client
    token, _ = one.issue(client)
    assert two.verify(token).client_id == client.id


def test_a_token_for_another_issuer_or_tampered_is_refused(sqlite_engine: Engine) -> None:
    service = TokenService(sqlite_engine, issuer="twinrail")
    service.ensure_signing_key()
    from twinrail.api.service.credentials import CredentialService

    client = CredentialService(sqlite_engine).create_client("x", Role.CLIENT).client
    token, _ = service.issue(client)
    other = TokenService(sqlite_engine, issuer="someone-else")
    for bad in (token[:-4] + "AAAA", token.replace(".", ".x", 1)):
        try:
            service.verify(bad)
            raise AssertionError("tampered token accepted")
        except NotAuthenticated:
            pass
    try:
        other.verify(token)
        raise AssertionError("token for another audience accepted")
    except NotAuthenticated:
        pass


def test_an_api_key_is_shown_once_works_as_a_bearer_and_stops_when_revoked(
    sqlite_client: TestClient,
) -> None:
    caller = new_caller(sqlite_client, Role.CLIENT)
    created = sqlite_client.post(
        "/v1/api-keys",
        json={"name": "backend"},
        headers={**caller.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["api_key"].startswith(f"trk_{body['prefix']}_")
    key_headers = {"Authorization": f"Bearer {body['api_key']}"}
    assert sqlite_client.get("/v1/customers", headers=key_headers).status_code == 200
    other = new_caller(sqlite_client, Role.CLIENT)
    stolen = sqlite_client.post(
        f"/v1/api-keys/{body['id']}/revoke",
        headers={**other.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert stolen.status_code == 404
    revoked = sqlite_client.post(
        f"/v1/api-keys/{body['id']}/revoke",
        headers={**caller.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert "api_key" not in revoked.json()
    assert sqlite_client.get("/v1/customers", headers=key_headers).status_code == 401
