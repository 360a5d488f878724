"""Compliance: customers' KYC and screening, beneficial owners, false positives, review cases,
watch-list status, and the KYC provider's signed callback.

Analysts are the calling credentials: four eyes compare their client ids. A `client` reaches
only its own customers' KYC (another tenant's customer answers 404); cases, screening results
and lists are for platform staff. The provider callback carries no bearer token: its HMAC
signature is the credential (401 problem when missing or wrong), and its event id makes a replay
harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from twinrail.api.compliance_schemas import (
    ApprovalCreate,
    AssignmentCreate,
    AttachmentCreate,
    CallbackAccepted,
    CaseDecisionCreate,
    CasePage,
    CasePublic,
    CommentCreate,
    CustomerScreeningPublic,
    FalsePositiveCreate,
    FalsePositivePublic,
    KycPublic,
    ListStatusPublic,
    ListVersionPublic,
    OwnersPut,
    VerificationStart,
    case_public,
    case_summary,
    mark_public,
    screening_public,
    verification_public,
)
from twinrail.api.deps import CurrentPrincipal, PageCursor, PageLimit, ServicesDep, needs
from twinrail.api.domain.cursor import encode_cursor
from twinrail.api.domain.errors import ResourceNotFound
from twinrail.api.domain.model import Customer, CustomerKind, Principal
from twinrail.api.domain.roles import Permission
from twinrail.api.idempotent_route import IdempotentRoute
from twinrail.compliance.domain.kyc import effective_tier
from twinrail.compliance.domain.kyc_provider import SIGNATURE_HEADER
from twinrail.compliance.domain.owners import BeneficialOwner, ownership_bps
from twinrail.compliance.service.case_report import case_report, report_markdown
from twinrail.compliance.service.wiring import ComplianceServices, build_compliance_services

__all__ = ["router", "PROVIDER_SIGNATURE"]

PROVIDER_SIGNATURE = "provider_signature"  # x-permission of routes a provider's HMAC authorises

router = APIRouter(prefix="/v1/compliance", tags=["compliance"], route_class=IdempotentRoute)


def _compliance(request: Request, services: ServicesDep) -> ComplianceServices:
    """The app's compliance services, built on first use over the API's engine and screening."""
    state = request.app.state
    found: ComplianceServices | None = getattr(state, "compliance", None)
    if found is None:
        decisions = getattr(services.compliance, "decisions", None)
        screening = getattr(decisions, "screening", None)
        found = build_compliance_services(
            services.platform.engine, screening, clock=services.customers.clock,
            auto_deliver=True,  # the simulated provider calls back from this process
        )  # fmt: skip
        state.compliance = found
    return found


Compliance = Annotated[ComplianceServices, Depends(_compliance)]


def _customer(services: ServicesDep, principal: Principal, customer_id: str) -> Customer:
    """The customer, if the caller may see it (404 for another tenant's)."""
    return services.customers.customer(principal, customer_id)


# --- KYC --------------------------------------------------------------------------------


def _kyc(compliance: ComplianceServices, customer_id: str) -> KycPublic:
    profile = compliance.kyc.profile(customer_id)
    return KycPublic(
        customer_id=customer_id, status=profile.status.value, tier=int(profile.tier),
        effective_tier=int(effective_tier(profile)), updated_at=profile.updated_at,
        verifications=[verification_public(v) for v in compliance.verifications.verifications(
            customer_id)],
    )  # fmt: skip


@router.get("/customers/{customer_id}/kyc", response_model=KycPublic, **needs(Permission.KYC_READ))
def get_kyc(
    customer_id: str, principal: CurrentPrincipal, services: ServicesDep, compliance: Compliance
) -> KycPublic:
    """A customer's KYC status, tier and verifications."""
    _customer(services, principal, customer_id)
    return _kyc(compliance, customer_id)


@router.post(
    "/customers/{customer_id}/kyc/verifications",
    response_model=KycPublic,
    status_code=status.HTTP_201_CREATED,
    **needs(Permission.KYC_WRITE),
)
def start_verification(
    customer_id: str,
    body: VerificationStart,
    principal: CurrentPrincipal,
    services: ServicesDep,
    compliance: Compliance,
) -> KycPublic:
    """Start identity verification at the provider: KYC `pending` until its signed callback."""
    customer = _customer(services, principal, customer_id)
    compliance.verifications.start(
        customer.id, body.tier, applicant_name=str(customer.details.get("name", "")),
        provider=body.provider, actor=principal.client_id,
    )  # fmt: skip
    return _kyc(compliance, customer.id)


async def kyc_callback(
    provider: str,
    request: Request,
    compliance: Compliance,
    signature: Annotated[
        str | None,
        Header(alias=SIGNATURE_HEADER, max_length=200, description="`t=<unix>,v1=<hex hmac>`"),
    ] = None,
) -> CallbackAccepted:
    """A KYC provider's signed result (approved, rejected, needs more information)."""
    body = await request.body()
    outcome = await run_in_threadpool(
        compliance.verifications.handle_callback, provider, body, signature
    )
    return CallbackAccepted(status=outcome.status)


# A provider sends no Idempotency-Key: a plain route, idempotent by the callback's event id.
router.add_api_route(
    "/kyc/callbacks/{provider}",
    kyc_callback,
    methods=["POST"],
    response_model=CallbackAccepted,
    openapi_extra={"x-permission": PROVIDER_SIGNATURE},
    route_class_override=APIRoute,
)


# --- screening, owners, false positives -------------------------------------------------


@router.get(
    "/customers/{customer_id}/screening",
    response_model=CustomerScreeningPublic,
    **needs(Permission.COMPLIANCE_READ),
)
def get_screening(
    customer_id: str, principal: CurrentPrincipal, services: ServicesDep, compliance: Compliance
) -> CustomerScreeningPublic:
    """The customer's and its beneficial owners' current screening hits."""
    _customer(services, principal, customer_id)
    return screening_public(compliance.parties.results(customer_id))


@router.post(
    "/customers/{customer_id}/screening",
    response_model=CustomerScreeningPublic,
    **needs(Permission.COMPLIANCE_WRITE),
)
def screen_customer(
    customer_id: str, principal: CurrentPrincipal, services: ServicesDep, compliance: Compliance
) -> CustomerScreeningPublic:
    """Screen the customer's name and country against every active list now."""
    customer = _customer(services, principal, customer_id)
    details = customer.details
    result = compliance.parties.screen_customer(
        customer.id, str(details.get("name", "")), country=details.get("country")
    )
    return screening_public(result)


@router.put(
    "/customers/{customer_id}/beneficial-owners",
    response_model=CustomerScreeningPublic,
    **needs(Permission.KYC_WRITE),
)
def put_owners(
    customer_id: str,
    body: OwnersPut,
    principal: CurrentPrincipal,
    services: ServicesDep,
    compliance: Compliance,
) -> CustomerScreeningPublic:
    """Replace a business customer's beneficial owners; each is screened."""
    customer = _customer(services, principal, customer_id)
    if customer.kind is not CustomerKind.BUSINESS:
        raise ResourceNotFound("only business customers have beneficial owners",
                               resource="business_customer")  # fmt: skip
    owners = [
        BeneficialOwner(
            o.owner_id, o.name, o.birth_date, o.country, ownership_bps(o.ownership_percent)
        )  # fmt: skip
        for o in body.owners
    ]
    return screening_public(
        compliance.parties.set_owners(customer.id, owners, actor=principal.client_id)
    )


@router.post(
    "/customers/{customer_id}/false-positives",
    response_model=FalsePositivePublic,
    status_code=status.HTTP_201_CREATED,
    **needs(Permission.COMPLIANCE_WRITE),
)
def propose_false_positive(
    customer_id: str,
    body: FalsePositiveCreate,
    principal: CurrentPrincipal,
    services: ServicesDep,
    compliance: Compliance,
) -> FalsePositivePublic:
    """Propose that one of the customer's hits is a false positive (another analyst decides)."""
    _customer(services, principal, customer_id)
    mark = compliance.false_positives.propose(
        customer_id, body.hit_id, body.reason, by=principal.client_id
    )
    return mark_public(mark)


@router.post(
    "/false-positives/{mark_id}/{action}",
    response_model=FalsePositivePublic,
    **needs(Permission.COMPLIANCE_WRITE),
)
def decide_false_positive(
    mark_id: str,
    action: Literal["approve", "reject"],
    principal: CurrentPrincipal,
    compliance: Compliance,
) -> FalsePositivePublic:
    """Approve or reject a proposed mark; never by the analyst who proposed it."""
    service = compliance.false_positives
    decide = service.approve if action == "approve" else service.reject
    return mark_public(decide(mark_id, by=principal.client_id))


# --- cases --------------------------------------------------------------------------------


def _case_change(
    path: str, *, created: bool = False
) -> Callable[[Callable[..., CasePublic]], Callable[..., CasePublic]]:
    """A POST route that changes a case and answers it; needs `compliance:write`."""
    return router.post(
        path,
        response_model=CasePublic,
        status_code=status.HTTP_201_CREATED if created else None,
        **needs(Permission.COMPLIANCE_WRITE),
    )


@router.get("/cases", response_model=CasePage, **needs(Permission.COMPLIANCE_READ))
def list_cases(
    compliance: Compliance,
    cursor: PageCursor,
    limit: PageLimit = 50,
    case_status: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
) -> CasePage:
    """The review queue, oldest first; filter by status and assignee."""
    found = compliance.cases.cases(
        status=case_status, assignee=assignee, after=cursor, limit=limit + 1
    )
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].case_id) if len(found) > limit else None
    return CasePage(data=[case_summary(c) for c in page], next_cursor=next_cursor)


@router.get("/cases/{case_id}", response_model=CasePublic, **needs(Permission.COMPLIANCE_READ))
def get_case(case_id: str, compliance: Compliance) -> CasePublic:
    """One case with its alerts, notes and decisions."""
    return case_public(compliance.cases.case(case_id))


@router.get(
    "/cases/{case_id}/report",
    responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}}}},
    **needs(Permission.COMPLIANCE_READ),
)
def get_case_report(
    case_id: str,
    compliance: Compliance,
    report_format: Annotated[Literal["json", "markdown"], Query(alias="format")] = "json",
) -> Response:
    """A suspicious-activity report draft of the case (JSON or Markdown)."""
    report = case_report(compliance.engine, case_id)
    if report_format == "markdown":
        return Response(report_markdown(report), media_type="text/markdown")
    return JSONResponse(report)


@_case_change("/cases/{case_id}/assignment")
def assign_case(
    case_id: str, body: AssignmentCreate, principal: CurrentPrincipal, compliance: Compliance
) -> CasePublic:
    """Give the case to an analyst."""
    return case_public(compliance.cases.assign(case_id, body.assignee, by=principal.client_id))


@_case_change("/cases/{case_id}/comments", created=True)
def comment_case(
    case_id: str, body: CommentCreate, principal: CurrentPrincipal, compliance: Compliance
) -> CasePublic:
    """Add a comment."""
    return case_public(compliance.cases.comment(case_id, body.body, by=principal.client_id))


@_case_change("/cases/{case_id}/attachments", created=True)
def attach_to_case(
    case_id: str, body: AttachmentCreate, principal: CurrentPrincipal, compliance: Compliance
) -> CasePublic:
    """Attach a document by reference (URI and SHA-256); the content stays where it is."""
    return case_public(compliance.cases.attach(case_id, body.uri, body.sha256, body.description,
                                         by=principal.client_id))  # fmt: skip


@_case_change("/cases/{case_id}/decisions", created=True)
def propose_case_decision(
    case_id: str, body: CaseDecisionCreate, principal: CurrentPrincipal, compliance: Compliance
) -> CasePublic:
    """Prepare a decision: `allow` releases the case's orders, `block` keeps them stopped."""
    return case_public(compliance.cases.propose(case_id, body.verdict, body.reasons,
                                          by=principal.client_id))  # fmt: skip


@_case_change("/cases/{case_id}/decisions/{decision_id}/approvals")
def approve_case_decision(
    case_id: str,
    decision_id: str,
    body: ApprovalCreate,
    principal: CurrentPrincipal,
    compliance: Compliance,
) -> CasePublic:
    """Approve a prepared decision (four eyes; two approvers to release a blocked payment)."""
    case = compliance.cases.approve(case_id, decision_id, by=principal.client_id)
    if body.comment.strip():
        case = compliance.cases.comment(case_id, body.comment, by=principal.client_id)
    return case_public(case)


# --- lists ----------------------------------------------------------------------------------


@router.get("/lists", response_model=ListStatusPublic, **needs(Permission.COMPLIANCE_READ))
def list_status(compliance: Compliance) -> ListStatusPublic:
    """Every loaded version of every watch list; one per list is active."""
    return ListStatusPublic(
        data=[
            ListVersionPublic(
                list_name=v.list_name,
                version=v.version,
                format=v.format,
                sha256=v.sha256,
                entities=v.entity_count,
                changed=v.changed_count,
                removed=v.removed_count,
                status=v.status,
                loaded_at=v.loaded_at,
            )  # fmt: skip
            for v in compliance.screening.list_status()
        ]
    )
