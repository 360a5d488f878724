"""Setting and reading customers' KYC status and tier; every change is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from twinrail.compliance.domain.events import KycProfileChanged
from twinrail.compliance.domain.kyc import KycProfile, check_profile_is_valid, unverified_profile
from twinrail.compliance.store.kyc_store import KycStore
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.platform.uow import UnitOfWork

__all__ = ["SetKycProfile", "KycService"]


@dataclass(frozen=True, slots=True)
class SetKycProfile:
    """Give a customer a KYC status and tier, for a recorded reason."""

    customer_id: str
    status: str
    tier: int
    reason: str = ""


class KycService:
    """KYC profiles over one database."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now, actor: str = "system") -> None:
        self.engine = engine
        self.clock = clock
        self.actor = actor

    def set_profile(self, cmd: SetKycProfile, *, actor: str | None = None) -> KycProfile:
        """Set the status and tier (InvalidKycProfile for unknown values); audited."""
        status, tier = check_profile_is_valid(cmd.customer_id, cmd.status, cmd.tier)
        with UnitOfWork(self.engine, actor=actor or self.actor, clock=self.clock) as uow:
            store = KycStore(uow.connection)
            store.lock_customer(cmd.customer_id)
            before = store.profile(cmd.customer_id) or unverified_profile(cmd.customer_id)
            after = KycProfile(cmd.customer_id, status, tier, self.clock(), before.version + 1)
            store.save_profile(after)
            uow.publish(
                [KycProfileChanged(after.customer_id, status.value, int(tier), after.version)]
            )
            uow.audit(
                "compliance.kyc.set",
                f"customer:{cmd.customer_id}",
                status=status.value,
                tier=int(tier),
                previous_status=before.status.value,
                previous_tier=int(before.tier),
                version=after.version,
                reason=cmd.reason,
            )
            uow.commit()
        return after

    def profile(self, customer_id: str) -> KycProfile:
        """The customer's profile; unverified at tier 0 when none was ever set."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return KycStore(conn).profile(customer_id) or unverified_profile(customer_id)
