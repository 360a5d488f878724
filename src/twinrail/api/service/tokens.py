"""OAuth2 access tokens: short-lived ES256 JWTs, keys published as a JWKS, rotated without downtime.

Rotation: a new key starts signing at once; the previous keys stop signing but stay published
and keep verifying until `retire_after` = rotation + token lifetime + the key cache's refresh
interval. The refresh interval is in there because another process may sign with the old key
until its cache refreshes, and the tokens it signs then must still verify to their expiry.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import threading
import time
from collections import OrderedDict
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import Engine

from twinrail.api.domain.errors import NotAuthenticated
from twinrail.api.domain.model import ApiClient, Principal, SigningKey
from twinrail.api.domain.roles import Role
from twinrail.api.service.ids import new_id
from twinrail.api.store.api_store import ApiStore
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.uow import UnitOfWork

__all__ = ["TokenService", "ALGORITHM"]

ALGORITHM = "ES256"
_LEEWAY = 5  # seconds of clock skew tolerated on exp/nbf
_PUBLIC_FIELDS = ("kty", "crv", "x", "y", "kid", "use", "alg")


class TokenService:
    """Issues and verifies access tokens; keeps the signing keys cached in memory."""

    def __init__(
        self,
        engine: Engine,
        *,
        issuer: str,
        ttl_seconds: int = 300,
        refresh_seconds: float = 30.0,
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: list[SigningKey] = []
        self._loaded_at = float("-inf")
        self._last_miss_reload = float("-inf")
        # Verifying an ES256 signature costs far more than the rest of a small request, and a
        # client sends the same token for minutes: remember what each verified token proved.
        self._verified: OrderedDict[str, tuple[Principal, int, str]] = OrderedDict()
        self._verified_max = 10_000
        self._public_keys: dict[str, ECKey] = {}

    # keys

    def ensure_signing_key(self) -> None:
        """Create the first signing key if there is none (safe to call from every process)."""
        if not self._load(force=True):
            self.rotate(actor="system")

    def rotate(self, *, actor: str) -> str:
        """Start signing with a new key; older keys verify until their tokens expire."""
        now = self.clock()
        key = ECKey.generate_key("P-256")
        signing = SigningKey(new_id("kid"), key.as_dict(private=True), now)
        grace = dt.timedelta(seconds=self.ttl_seconds + self.refresh_seconds + 5)
        with UnitOfWork(self.engine, actor=actor, clock=self.clock) as uow:
            store = ApiStore(uow.connection)
            store.add_signing_key(signing)
            store.retire_signing_keys(signing.kid, now, now + grace)
            store.drop_signing_keys_retired_before(now)
            uow.audit("api.rotate_signing_key", f"signing_key:{signing.kid}")
            uow.commit()
        self._load(force=True)
        return signing.kid

    def jwks(self) -> dict[str, Any]:
        """The public keys that verify tokens now (signing and retiring)."""
        keys = []
        for key in self._live_keys():
            public = {k: v for k, v in key.private_jwk.items() if k in _PUBLIC_FIELDS}
            keys.append({**public, "kid": key.kid, "use": "sig", "alg": ALGORITHM})
        return {"keys": keys}

    # tokens

    def issue(self, client: ApiClient) -> tuple[str, int]:
        """A signed access token for `client`, and its lifetime in seconds."""
        signing = self._signing_key()
        now = int(self.clock().timestamp())
        claims = {
            "iss": self.issuer,
            "sub": client.id,
            "aud": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": new_id("jti"),
            "role": client.role.value,
        }
        key = ECKey.import_key(signing.private_jwk)
        token = jwt.encode({"alg": ALGORITHM, "kid": signing.kid, "typ": "at+jwt"}, claims, key)
        return token, self.ttl_seconds

    def verify(self, token: str) -> Principal:
        """The principal an access token names, else NotAuthenticated."""
        now = int(self.clock().timestamp())
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires, signed_by = remembered
            if now <= expires + _LEEWAY and self._is_live(signed_by):
                return principal
            self._verified.pop(token, None)
        kid = _header_kid(token)
        key = self._verifying_key(kid) if kid else None
        if key is None or kid is None:
            raise NotAuthenticated("the access token is not valid")
        try:
            decoded = jwt.decode(token, self._public_key(key), algorithms=[ALGORITHM])
            claims = decoded.claims
            jwt.JWTClaimsRegistry(
                now=now,
                leeway=_LEEWAY,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.issuer},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(claims)
            principal = Principal(str(claims["sub"]), Role(claims["role"]), f"token:{kid}")
        except (JoseError, ValueError, KeyError) as exc:
            raise NotAuthenticated("the access token is not valid or has expired") from exc
        with self._lock:
            self._verified[token] = (principal, int(claims["exp"]), kid)
            while len(self._verified) > self._verified_max:
                self._verified.popitem(last=False)
        return principal

    def _public_key(self, key: SigningKey) -> ECKey:
        found = self._public_keys.get(key.kid)
        if found is None:
            public = {k: v for k, v in key.private_jwk.items() if k in _PUBLIC_FIELDS}
            found = self._public_keys[key.kid] = ECKey.import_key(public)
        return found

    def _is_live(self, kid: str) -> bool:
        return any(key.kid == kid for key in self._live_keys())

    # cache

    def _signing_key(self) -> SigningKey:
        self._load()
        with self._lock:
            active = [k for k in self._keys if k.retired_at is None]
        if not active:
            self.ensure_signing_key()
            return self._signing_key()
        return active[-1]

    def _verifying_key(self, kid: str) -> SigningKey | None:
        for force in (False, True):  # an unknown kid may be a key another process just made
            if force:
                if time.monotonic() - self._last_miss_reload < 0.1:
                    break  # at most ten reloads a second, so junk kids cannot hammer the database
                self._last_miss_reload = time.monotonic()
            self._load(force=force)
            for key in self._live_keys():
                if key.kid == kid:
                    return key
        return None

    def _live_keys(self) -> list[SigningKey]:
        self._load()
        now = self.clock()
        with self._lock:
            return [k for k in self._keys if k.retire_after is None or k.retire_after > now]

    def _load(self, *, force: bool = False) -> bool:
        if not force and time.monotonic() - self._loaded_at < self.refresh_seconds:
            return bool(self._keys)
        with self.engine.connect() as conn:
            keys = ApiStore(conn).signing_keys()
        with self._lock:
            self._keys = keys
            self._loaded_at = time.monotonic()
        return bool(keys)


def _header_kid(token: str) -> str | None:
    """The `kid` in a compact JWS header, read before verifying to pick the key."""
    try:
        segment = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None
