"""Identity verification at an external KYC provider, and the signed callbacks it sends.

A verification starts at the provider (the customer's KYC goes `pending`); the result arrives
later as a callback signed with a shared secret, the way Sumsub and Onfido sign theirs:
`X-Twinrail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. A callback
older than the tolerance is refused even when well signed, and each event id is applied once,
so a captured callback cannot be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from twinrail.compliance.domain.errors import CallbackSignatureInvalid, InvalidKycProfile
from twinrail.compliance.domain.kyc import Tier

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE",
    "VerificationStatus",
    "VerificationResult",
    "Verification",
    "ProviderCallback",
    "sign_callback",
    "check_callback_signature",
    "parse_callback",
]

SIGNATURE_HEADER = "X-Twinrail-Signature"
SIGNATURE_TOLERANCE = dt.timedelta(minutes=5)


class VerificationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_MORE_INFORMATION = "needs_more_information"
    EXPIRED = "expired"


class VerificationResult(StrEnum):
    """What a provider's callback says."""

    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_MORE_INFORMATION = "needs_more_information"


@dataclass(frozen=True, slots=True)
class Verification:
    """One verification of one customer at one provider."""

    verification_id: str
    customer_id: str
    provider: str
    provider_ref: str
    requested_tier: Tier
    status: VerificationStatus
    started_at: dt.datetime
    updated_at: dt.datetime
    documents_expire_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "verification_id": self.verification_id,
            "customer_id": self.customer_id,
            "provider": self.provider,
            "provider_ref": self.provider_ref,
            "requested_tier": int(self.requested_tier),
            "status": self.status.value,
            "started_at": self.started_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "documents_expire_at": (
                self.documents_expire_at.isoformat() if self.documents_expire_at else None
            ),
        }


@dataclass(frozen=True, slots=True)
class ProviderCallback:
    """A callback's content once its signature checked out."""

    event_id: str
    provider_ref: str
    result: VerificationResult
    tier: Tier | None
    documents_expire_at: dt.datetime | None
    detail: str = ""


def sign_callback(secret: bytes, body: bytes, at: dt.datetime) -> str:
    """The signature header value for `body` sent at `at`."""
    stamp = str(int(at.timestamp()))
    mac = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def check_callback_signature(
    secret: bytes,
    body: bytes,
    header: str | None,
    now: dt.datetime,
    tolerance: dt.timedelta = SIGNATURE_TOLERANCE,
) -> None:
    """CallbackSignatureInvalid unless `header` signs `body` with `secret`, recently enough."""
    if not header:
        raise CallbackSignatureInvalid("the callback is not signed")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        raise CallbackSignatureInvalid("the callback signature is malformed")
    expected = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise CallbackSignatureInvalid("the callback signature does not match")
    sent = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
    if abs(now - sent) > tolerance:
        raise CallbackSignatureInvalid("the callback is too old or from the future")


def parse_callback(body: bytes) -> ProviderCallback:
    """The callback in a signed `body` (JSON), or InvalidKycProfile if it is not one."""
    try:
        data: Mapping[str, Any] = json.loads(body)
        result = VerificationResult(data["result"])
        tier = Tier(int(data["tier"])) if data.get("tier") is not None else None
        expires = data.get("documents_expire_at")
        return ProviderCallback(
            event_id=str(data["event_id"])[:36],
            provider_ref=str(data["reference"]),
            result=result,
            tier=tier,
            documents_expire_at=dt.datetime.fromisoformat(expires) if expires else None,
            detail=str(data.get("detail", ""))[:500],
        )
    except (ValueError, KeyError, TypeError) as exc:
        # signed, so from the provider: it and we disagree on the format
        raise InvalidKycProfile("the signed body is not a KYC callback") from exc
