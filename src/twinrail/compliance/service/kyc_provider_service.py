"""Identity verification through a KYC provider: start, apply signed callbacks, expire documents.

Starting calls the provider first (outside any transaction: it is an external call), then records
the verification and sets the customer's KYC to `pending` in one commit. A callback is checked
(signature, freshness), claimed by its event id in `processed_events` and applied in the same
transaction, so a replayed callback changes nothing. Approved documents carry an expiry; past it,
`expire_documents` sets the customer's KYC to `expired` at tier 0 until they verify again.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine

from twinrail.compliance.domain.case_events import VerificationStarted
from twinrail.compliance.domain.errors import (
    CallbackSignatureInvalid,
    InvalidKycProfile,
    UnknownVerification,
)
from twinrail.compliance.domain.events import KycProfileChanged
from twinrail.compliance.domain.kyc import KycProfile, KycStatus, Tier, unverified_profile
from twinrail.compliance.domain.kyc_provider import (
    ProviderCallback,
    Verification,
    VerificationResult,
    VerificationStatus,
    check_callback_signature,
    parse_callback,
)
from twinrail.compliance.store.kyc_store import KycStore
from twinrail.compliance.store.party_store import PartyStore
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.consumers import claim_event
from twinrail.platform.db import READ_ONLY
from twinrail.platform.uow import UnitOfWork

__all__ = [
    "KycProviderSettings",
    "VerificationRequest",
    "KycProvider",
    "CallbackOutcome",
    "KycVerificationService",
]


class KycProviderSettings(BaseSettings):
    """`TWINRAIL_COMPLIANCE_KYC_*`: the callback secret shared with each provider."""

    model_config = SettingsConfigDict(
        env_prefix="TWINRAIL_COMPLIANCE_KYC_", env_file=".env", extra="ignore"
    )

    # unset: derived from the database URL (see `wiring`), so that every process of one
    # deployment agrees; set it wherever the simulated provider is reachable by others
    simulated_secret: SecretStr | None = None
    callback_base_url: str = "http://127.0.0.1:8000"
    document_validity_days: int = Field(default=365, ge=1)


@dataclass(frozen=True, slots=True)
class VerificationRequest:
    """What a provider needs to start: who, to which tier, and where to call back."""

    customer_id: str
    tier: Tier
    applicant_name: str
    callback_url: str


class KycProvider(ABC):
    """The port to a KYC provider (Onfido, Sumsub, ... or the simulated one)."""

    name: str

    @abstractmethod
    def start_verification(self, request: VerificationRequest) -> str:
        """Open a verification at the provider; its reference. KycProviderUnavailable if down."""


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    """What a callback did: `applied`, or `duplicate` for an event seen before."""

    status: str
    verification: Verification | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "verification": self.verification.to_dict() if self.verification else None,
        }


_RESULT_STATUS = {
    VerificationResult.APPROVED: VerificationStatus.APPROVED,
    VerificationResult.REJECTED: VerificationStatus.REJECTED,
    VerificationResult.NEEDS_MORE_INFORMATION: VerificationStatus.NEEDS_MORE_INFORMATION,
}


class KycVerificationService:
    """Verifications at the configured providers, over one database."""

    def __init__(
        self,
        engine: Engine,
        providers: Mapping[str, KycProvider],
        secrets_by_provider: Mapping[str, bytes],
        *,
        callback_base_url: str = "http://127.0.0.1:8000",
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.providers = dict(providers)
        self.secrets = dict(secrets_by_provider)
        self.callback_base_url = callback_base_url.rstrip("/")
        self.clock = clock

    def callback_url(self, provider: str) -> str:
        return f"{self.callback_base_url}/v1/compliance/kyc/callbacks/{provider}"

    def start(
        self,
        customer_id: str,
        tier: int,
        *,
        applicant_name: str = "",
        provider: str = "simulated",
        actor: str = "compliance",
    ) -> Verification:
        """Start a verification to `tier`; the customer's KYC is `pending` until the callback."""
        try:
            wanted = Tier(tier)
        except ValueError:
            raise InvalidKycProfile("unknown tier", tier=tier) from None
        port = self.providers.get(provider)
        if port is None:
            raise UnknownVerification("no such KYC provider", provider=provider)
        ref = port.start_verification(
            VerificationRequest(customer_id, wanted, applicant_name, self.callback_url(provider))
        )
        with UnitOfWork(self.engine, actor=actor, clock=self.clock) as uow:
            now = self.clock()
            verification = Verification(
                f"kyv_{uuid.uuid4().hex}", customer_id, provider, ref, wanted,
                VerificationStatus.PENDING, now, now,
            )  # fmt: skip
            PartyStore(uow.connection).add_verification(verification)
            _set_profile(uow, customer_id, KycStatus.PENDING, None, "verification started")
            uow.publish([VerificationStarted(verification.verification_id, customer_id, provider)])
            uow.audit(
                "compliance.kyc.verification_start", f"customer:{customer_id}",
                verification_id=verification.verification_id, provider=provider,
                requested_tier=int(wanted),
            )  # fmt: skip
            uow.commit()
        return verification

    def handle_callback(self, provider: str, body: bytes, signature: str | None) -> CallbackOutcome:
        """Apply a signed callback once (CallbackSignatureInvalid if unsigned, forged or stale)."""
        secret = self.secrets.get(provider)
        if secret is None:  # nothing to check a signature with: as unsigned, not "unknown"
            raise CallbackSignatureInvalid("no callback secret for this provider")
        check_callback_signature(secret, body, signature, self.clock())
        callback = parse_callback(body)
        with UnitOfWork(self.engine, actor=f"kyc-provider:{provider}", clock=self.clock) as uow:
            if not claim_event(uow.connection, f"compliance.kyc_callback.{provider}",
                               callback.event_id, self.clock):  # fmt: skip
                return CallbackOutcome("duplicate", None)
            store = PartyStore(uow.connection)
            verification = store.verification_by_ref(provider, callback.provider_ref)
            if verification is None:
                raise UnknownVerification("no verification has that reference")
            applied = self._apply(uow, verification, callback)
            uow.commit()
        return CallbackOutcome("applied", applied)

    def _apply(
        self, uow: UnitOfWork, verification: Verification, callback: ProviderCallback
    ) -> Verification:
        now = self.clock()
        status = _RESULT_STATUS[callback.result]
        expires = callback.documents_expire_at if status is VerificationStatus.APPROVED else None
        applied = replace(verification, status=status, updated_at=now, documents_expire_at=expires)
        PartyStore(uow.connection).save_verification(applied)
        customer = verification.customer_id
        if status is VerificationStatus.APPROVED:
            tier = callback.tier if callback.tier is not None else verification.requested_tier
            _set_profile(uow, customer, KycStatus.VERIFIED, tier, "provider approved")
        elif status is VerificationStatus.REJECTED:
            _set_profile(uow, customer, KycStatus.REJECTED, Tier.BASIC, "provider rejected")
        else:
            _set_profile(uow, customer, KycStatus.PENDING, None, "provider needs more information")
        uow.audit(
            "compliance.kyc.verification_result", f"customer:{customer}",
            verification_id=verification.verification_id, result=callback.result.value,
            event_id=callback.event_id,
            documents_expire_at=expires.isoformat() if expires else None,
        )  # fmt: skip
        return applied

    def expire_documents(self, limit: int = 500) -> list[Verification]:
        """Expire approved verifications whose documents lapsed: KYC `expired`, tier 0."""
        with UnitOfWork(self.engine, actor="compliance.kyc-expiry", clock=self.clock) as uow:
            now = self.clock()
            store = PartyStore(uow.connection)
            expired = []
            for verification in store.verifications_expiring(now, limit):
                lapsed = replace(verification, status=VerificationStatus.EXPIRED, updated_at=now)
                store.save_verification(lapsed)
                expired.append(lapsed)
                if _has_newer_approval(store, lapsed):
                    continue  # re-verified since: this old approval no longer carries the tier
                _set_profile(
                    uow, lapsed.customer_id, KycStatus.EXPIRED, Tier.BASIC, "documents expired"
                )
                uow.audit(
                    "compliance.kyc.documents_expired", f"customer:{lapsed.customer_id}",
                    verification_id=lapsed.verification_id,
                )  # fmt: skip
            uow.commit()
        return expired

    def verifications(self, customer_id: str) -> list[Verification]:
        """The customer's verifications, oldest first."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return PartyStore(conn).verifications_of(customer_id)


def _has_newer_approval(store: PartyStore, lapsed: Verification) -> bool:
    return any(
        v.status is VerificationStatus.APPROVED and v.started_at > lapsed.started_at
        for v in store.verifications_of(lapsed.customer_id)
    )


def _set_profile(
    uow: UnitOfWork, customer_id: str, status: KycStatus, tier: Tier | None, reason: str
) -> KycProfile:
    """Set the customer's KYC status (and tier, unless None), with its event and audit record."""
    store = KycStore(uow.connection)
    store.lock_customer(customer_id)
    before = store.profile(customer_id) or unverified_profile(customer_id)
    after = KycProfile(
        customer_id, status, before.tier if tier is None else tier, uow.clock(), before.version + 1
    )
    store.save_profile(after)
    uow.publish([KycProfileChanged(customer_id, status.value, int(after.tier), after.version)])
    uow.audit(
        "compliance.kyc.set", f"customer:{customer_id}",
        status=status.value, tier=int(after.tier), previous_status=before.status.value,
        previous_tier=int(before.tier), version=after.version, reason=reason,
    )  # fmt: skip
    return after
