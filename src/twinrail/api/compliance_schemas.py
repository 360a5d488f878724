"""Request and response bodies of the compliance routes (`/v1/compliance/...`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from twinrail.api.schemas import Page
from twinrail.compliance.domain.cases import Case
from twinrail.compliance.domain.false_positives import FalsePositiveMark
from twinrail.compliance.domain.kyc_provider import Verification
from twinrail.compliance.service.party_screening_service import CustomerScreening

__all__ = [
    "VerificationStart",
    "VerificationPublic",
    "KycPublic",
    "OwnerIn",
    "OwnersPut",
    "ScreeningHitPublic",
    "OwnerPublic",
    "CustomerScreeningPublic",
    "FalsePositiveCreate",
    "FalsePositivePublic",
    "CallbackAccepted",
    "AlertPublic",
    "NotePublic",
    "CaseDecisionPublic",
    "CaseSummary",
    "CasePublic",
    "CasePage",
    "AssignmentCreate",
    "CommentCreate",
    "AttachmentCreate",
    "CaseDecisionCreate",
    "ApprovalCreate",
    "ListVersionPublic",
    "ListStatusPublic",
    "verification_public",
    "screening_public",
    "mark_public",
    "case_summary",
    "case_public",
]


class VerificationStart(BaseModel):
    tier: int = Field(ge=1, le=2, description="The tier to verify for: 1 identity, 2 enhanced.")
    provider: str = Field(default="simulated", max_length=40)


class VerificationPublic(BaseModel):
    verification_id: str
    provider: str
    provider_ref: str
    requested_tier: int
    status: str
    started_at: dt.datetime
    updated_at: dt.datetime
    documents_expire_at: dt.datetime | None


class KycPublic(BaseModel):
    customer_id: str
    status: Literal["unverified", "pending", "verified", "rejected", "expired"]
    tier: int
    effective_tier: int = Field(description="The tier whose limits apply now.")
    updated_at: dt.datetime | None
    verifications: list[VerificationPublic]


class OwnerIn(BaseModel):
    owner_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=300)
    birth_date: dt.date | None = None
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    ownership_percent: str = Field(
        pattern=r"^\d{1,3}(\.\d{1,2})?$", description="Share in percent, e.g. `25` or `33.33`."
    )


class OwnersPut(BaseModel):
    owners: list[OwnerIn] = Field(max_length=50)


class ScreeningHitPublic(BaseModel):
    hit_id: int
    party_id: str
    owner: bool = Field(description="Whether the hit is on a beneficial owner.")
    list_name: str
    list_version: int
    entity_id: str
    entity_name: str
    matched_name: str
    score: float
    features: list[dict[str, Any]]
    programs: list[str]
    origin: str
    recorded_at: dt.datetime
    suppressed: bool = Field(description="Covered by an approved false-positive mark.")


class OwnerPublic(BaseModel):
    owner_id: str
    party_id: str
    ownership_percent: str
    country: str | None


class CustomerScreeningPublic(BaseModel):
    customer_id: str
    owners: list[OwnerPublic]
    hits: list[ScreeningHitPublic]


class FalsePositiveCreate(BaseModel):
    hit_id: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=1000)


class FalsePositivePublic(BaseModel):
    mark_id: str
    customer_id: str
    party_id: str
    list_name: str
    entity_id: str
    reason: str
    status: str = Field(description="`proposed`, `approved` or `rejected`.")
    proposed_by: str
    proposed_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None


class CallbackAccepted(BaseModel):
    status: str = Field(description="`applied`, or `duplicate` for an event seen before.")


class AlertPublic(BaseModel):
    kind: str
    ref: str
    severity: str
    summary: dict[str, Any]
    raised_by: str
    raised_at: dt.datetime
    order_id: str | None
    outcome: str | None


class NotePublic(BaseModel):
    kind: str = Field(description="`comment` or `attachment`.")
    author: str
    body: str
    at: dt.datetime
    uri: str | None
    sha256: str | None


class CaseDecisionPublic(BaseModel):
    decision_id: str
    verdict: Literal["allow", "block"]
    reasons: list[str]
    prepared_by: str
    prepared_at: dt.datetime
    required_approvals: int
    approved_by: list[str]
    status: str = Field(description="`proposed` or `final`.")


class CaseSummary(BaseModel):
    id: str
    customer_id: str
    status: Literal["open", "closed"]
    assignee: str | None
    opened_at: dt.datetime
    updated_at: dt.datetime


class CasePublic(CaseSummary):
    order_ids: list[str]
    alerts: list[AlertPublic]
    notes: list[NotePublic]
    decisions: list[CaseDecisionPublic]


class CasePage(Page):
    data: list[CaseSummary]


class AssignmentCreate(BaseModel):
    assignee: str = Field(min_length=1, max_length=200)


class CommentCreate(BaseModel):
    body: str = Field(min_length=1, max_length=4000)


class AttachmentCreate(BaseModel):
    uri: str = Field(min_length=1, max_length=2000)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    description: str = Field(default="", max_length=4000)


class CaseDecisionCreate(BaseModel):
    verdict: Literal["allow", "block"]
    reasons: list[str] = Field(min_length=1, max_length=20)


class ApprovalCreate(BaseModel):
    comment: str = Field(default="", max_length=4000)


class ListVersionPublic(BaseModel):
    list_name: str
    version: int
    format: str
    sha256: str
    entities: int
    changed: int
    removed: int
    status: str = Field(description="`active` or `superseded`.")
    loaded_at: dt.datetime


class ListStatusPublic(BaseModel):
    data: list[ListVersionPublic]


# --- from domain values to response bodies -------------------------------------------------


def verification_public(v: Verification) -> VerificationPublic:
    return VerificationPublic(
        verification_id=v.verification_id, provider=v.provider, provider_ref=v.provider_ref,
        requested_tier=int(v.requested_tier), status=v.status.value, started_at=v.started_at,
        updated_at=v.updated_at, documents_expire_at=v.documents_expire_at,
    )  # fmt: skip


def screening_public(result: CustomerScreening) -> CustomerScreeningPublic:
    data = result.to_dict()
    return CustomerScreeningPublic(
        customer_id=result.customer_id,
        owners=[OwnerPublic(**o) for o in data["owners"]],
        hits=[
            ScreeningHitPublic(
                hit_id=h["hit_id"],
                party_id=h["party_id"],
                owner=h["owner"],
                list_name=h["list"],
                list_version=h["list_version"],
                entity_id=h["entity_id"],
                entity_name=h["entity_name"],
                matched_name=h["matched_name"],
                score=h["score"],
                features=h["features"],
                programs=h["programs"],
                origin=h["origin"],
                recorded_at=h["recorded_at"],
                suppressed=h["suppressed"],
            )  # fmt: skip
            for h in data["hits"]
        ],
    )


def mark_public(m: FalsePositiveMark) -> FalsePositivePublic:
    return FalsePositivePublic(
        mark_id=m.mark_id, customer_id=m.customer_id, party_id=m.party_id,
        list_name=m.list_name, entity_id=m.entity_id, reason=m.reason,
        status=m.status.value, proposed_by=m.proposed_by,
        proposed_at=m.proposed_at, decided_by=m.decided_by, decided_at=m.decided_at,
    )  # fmt: skip


def case_summary(case: Case) -> CaseSummary:
    return CaseSummary(
        id=case.case_id, customer_id=case.customer_id, status=case.status.value,
        assignee=case.assignee, opened_at=case.opened_at, updated_at=case.updated_at,
    )  # fmt: skip


def case_public(case: Case) -> CasePublic:
    return CasePublic(
        **case_summary(case).model_dump(),
        order_ids=list(case.order_ids),
        # same field names: enums become their string values, the summary a plain dict
        alerts=[AlertPublic.model_validate(a, from_attributes=True) for a in case.alerts],
        notes=[NotePublic.model_validate(n, from_attributes=True) for n in case.notes],
        decisions=[
            CaseDecisionPublic(
                decision_id=d.decision_id,
                verdict=d.verdict.value,
                reasons=list(d.reasons),
                prepared_by=d.prepared_by,
                prepared_at=d.prepared_at,
                required_approvals=d.required,
                approved_by=[a.by for a in d.approvals],
                status=d.status,
            )  # fmt: skip
            for d in case.decisions
        ],
    )
