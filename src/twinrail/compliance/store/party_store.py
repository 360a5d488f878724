"""KYC verifications, beneficial owners and false-positive marks: rows in, domain values out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Exists, and_, delete, exists, insert, or_, select, update

from twinrail.compliance.domain.false_positives import FalsePositiveMark, MarkStatus
from twinrail.compliance.domain.kyc import Tier
from twinrail.compliance.domain.kyc_provider import Verification, VerificationStatus
from twinrail.compliance.domain.owners import BeneficialOwner
from twinrail.compliance.store.tables import (
    beneficial_owners,
    false_positive_marks,
    kyc_verifications,
    list_entities,
    screened_parties,
    screening_hits,
)

__all__ = ["PartyStore", "hits_probe", "owner_range"]


def _verification(row: Any) -> Verification:
    return Verification(
        row.verification_id, row.customer_id, row.provider, row.provider_ref,
        Tier(row.requested_tier), VerificationStatus(row.status), row.started_at,
        row.updated_at, row.documents_expire_at,
    )  # fmt: skip


def _mark(row: Any) -> FalsePositiveMark:
    return FalsePositiveMark(
        row.mark_id, row.customer_id, row.party_id, row.list_name, row.entity_id,
        row.entity_hash, row.party_hash, row.reason, MarkStatus(row.status), row.proposed_by,
        row.proposed_at, row.decided_by, row.decided_at,
    )  # fmt: skip


def owner_range(customer_id: str) -> tuple[str, str]:
    """The party ids of a customer's owners, `<customer>/owner/<id>`, as a key range."""
    return f"{customer_id}/owner/", f"{customer_id}/owner0"  # "0" follows "/"


def hits_probe(customer: Any, owners_from: Any, owners_to: Any) -> Exists:
    """EXISTS a hit on the customer or one of its owners (`owner_range`): one probe on the party
    index. Values or bind parameters; a column for a caller's own SELECT."""
    party = screening_hits.c.party_id
    return exists().where(or_(party == customer, and_(party >= owners_from, party < owners_to)))


class PartyStore:
    """Reads and writes inside the caller's transaction; never commits."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # --- verifications -----------------------------------------------------------------

    def add_verification(self, v: Verification) -> None:
        self.connection.execute(
            insert(kyc_verifications).values(
                verification_id=v.verification_id, customer_id=v.customer_id,
                provider=v.provider, provider_ref=v.provider_ref,
                requested_tier=int(v.requested_tier), status=v.status.value,
                started_at=v.started_at, updated_at=v.updated_at,
                documents_expire_at=v.documents_expire_at,
            )
        )  # fmt: skip

    def save_verification(self, v: Verification) -> None:
        self.connection.execute(
            update(kyc_verifications)
            .where(kyc_verifications.c.verification_id == v.verification_id)
            .values(
                status=v.status.value,
                updated_at=v.updated_at,
                documents_expire_at=v.documents_expire_at,
            )
        )

    def verification_by_ref(self, provider: str, provider_ref: str) -> Verification | None:
        row = self.connection.execute(
            select(kyc_verifications).where(
                kyc_verifications.c.provider == provider,
                kyc_verifications.c.provider_ref == provider_ref,
            )
        ).first()
        return _verification(row) if row else None

    def verifications_of(self, customer_id: str) -> list[Verification]:
        rows = self.connection.execute(
            select(kyc_verifications)
            .where(kyc_verifications.c.customer_id == customer_id)
            .order_by(kyc_verifications.c.started_at, kyc_verifications.c.verification_id)
        )
        return [_verification(r) for r in rows]

    def verifications_expiring(self, now: dt.datetime, limit: int) -> list[Verification]:
        """Approved verifications whose documents expired at or before `now`."""
        rows = self.connection.execute(
            select(kyc_verifications)
            .where(
                kyc_verifications.c.status == VerificationStatus.APPROVED.value,
                kyc_verifications.c.documents_expire_at <= now,
            )
            .order_by(kyc_verifications.c.documents_expire_at)
            .limit(limit)
        )
        return [_verification(r) for r in rows]

    # --- beneficial owners -------------------------------------------------------------

    def replace_owners(
        self, business_id: str, owners: Sequence[BeneficialOwner], at: dt.datetime
    ) -> None:
        self.connection.execute(
            delete(beneficial_owners).where(beneficial_owners.c.business_id == business_id)
        )
        if owners:
            self.connection.execute(
                insert(beneficial_owners),
                [
                    {
                        "business_id": business_id,
                        "owner_id": o.owner_id,
                        "name": o.name,
                        "birth_date": o.birth_date.isoformat() if o.birth_date else None,
                        "country": o.country,
                        "ownership_bps": o.ownership_bps,
                        "updated_at": at,
                    }  # fmt: skip
                    for o in owners
                ],
            )

    def owners(self, business_id: str) -> list[BeneficialOwner]:
        rows = self.connection.execute(
            select(beneficial_owners)
            .where(beneficial_owners.c.business_id == business_id)
            .order_by(beneficial_owners.c.owner_id)
        )
        return [
            BeneficialOwner(
                r.owner_id,
                r.name,
                dt.date.fromisoformat(r.birth_date) if r.birth_date else None,
                r.country,
                r.ownership_bps,
            )  # fmt: skip
            for r in rows
        ]

    # --- screened parties, hits and false-positive marks -------------------------------

    def party_data(self, party_id: str) -> tuple[str, str | None, str | None, list[Any]] | None:
        row = self.connection.execute(
            select(screened_parties).where(screened_parties.c.party_id == party_id)
        ).first()
        return (row.name, row.birth_date, row.country, list(row.identifiers)) if row else None

    def screened_at(self, party_id: str) -> dt.datetime | None:
        found: dt.datetime | None = self.connection.scalar(
            select(screened_parties.c.screened_at).where(screened_parties.c.party_id == party_id)
        )
        return found

    def has_hits_of_customer(self, customer_id: str) -> bool:
        """Whether any hit was ever recorded on the customer or one of its owners."""
        probe = hits_probe(customer_id, *owner_range(customer_id))
        return bool(self.connection.scalar(select(probe)))

    def hits_of_parties(self, party_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Recorded hits of the parties, oldest first, each with its party and origin."""
        if not party_ids:
            return []
        rows = self.connection.execute(
            select(
                screening_hits.c.id,
                screening_hits.c.party_id,
                screening_hits.c.origin,
                screening_hits.c.hit,
                screening_hits.c.recorded_at,
            )  # fmt: skip
            .where(screening_hits.c.party_id.in_(list(party_ids)))
            .order_by(screening_hits.c.id)
        )
        return [
            {
                "hit_id": r.id,
                "party_id": r.party_id,
                "origin": r.origin,
                "recorded_at": r.recorded_at.isoformat(),
                **r.hit,
            }  # fmt: skip
            for r in rows
        ]

    def entity_hash(self, list_name: str, version: int, entity_id: str) -> str | None:
        found: str | None = self.connection.scalar(
            select(list_entities.c.content_hash).where(
                list_entities.c.list_name == list_name,
                list_entities.c.version == version,
                list_entities.c.entity_id == entity_id,
            )
        )
        return found

    def add_mark(self, mark: FalsePositiveMark) -> None:
        self.connection.execute(
            insert(false_positive_marks).values(
                mark_id=mark.mark_id, customer_id=mark.customer_id, party_id=mark.party_id,
                list_name=mark.list_name, entity_id=mark.entity_id,
                entity_hash=mark.entity_hash, party_hash=mark.party_hash, reason=mark.reason,
                status=mark.status.value, proposed_by=mark.proposed_by,
                proposed_at=mark.proposed_at,
            )
        )  # fmt: skip

    def save_mark(self, mark: FalsePositiveMark) -> None:
        self.connection.execute(
            update(false_positive_marks)
            .where(false_positive_marks.c.mark_id == mark.mark_id)
            .values(
                status=mark.status.value, decided_by=mark.decided_by, decided_at=mark.decided_at
            )
        )

    def mark(self, mark_id: str) -> FalsePositiveMark | None:
        row = self.connection.execute(
            select(false_positive_marks).where(false_positive_marks.c.mark_id == mark_id)
        ).first()
        return _mark(row) if row else None

    def marks_of_parties(self, party_ids: Sequence[str]) -> list[FalsePositiveMark]:
        if not party_ids:
            return []
        rows = self.connection.execute(
            select(false_positive_marks)
            .where(false_positive_marks.c.party_id.in_(list(party_ids)))
            .order_by(false_positive_marks.c.proposed_at, false_positive_marks.c.mark_id)
        )
        return [_mark(r) for r in rows]
