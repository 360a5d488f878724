"""KYC through a provider on a real database: start → pending; a signed callback sets the
result; forged, stale and replayed callbacks change nothing; lapsed documents expire the tier."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import httpx
import pytest
from sqlalchemy import Engine, select

from tests.conftest import ManualClock
from twinrail.audit.store.tables import audit_entries
from twinrail.compliance.adapters.simulated_kyc import SimulatedKycProvider
from twinrail.compliance.domain.errors import CallbackSignatureInvalid, UnknownVerification
from twinrail.compliance.domain.kyc import KycStatus, Tier, effective_tier
from twinrail.compliance.domain.kyc_provider import (
    SIGNATURE_HEADER,
    VerificationResult,
    VerificationStatus,
    check_callback_signature,
    sign_callback,
)
from twinrail.compliance.service.kyc_provider_service import KycVerificationService
from twinrail.compliance.service.kyc_service import KycService

SECRET = b"test-only-provider-secret"


class Provider:
    """The simulated provider, its callbacks delivered to the service through an httpx transport."""

    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        self.delivered: list[httpx.Response] = []
        transport = httpx.MockTransport(self._receive)
        self.adapter = SimulatedKycProvider(
            SECRET, httpx.Client(transport=transport), delay=dt.timedelta(seconds=30),
            document_validity=dt.timedelta(days=365), clock=clock,
        )  # fmt: skip
        self.service = KycVerificationService(
            engine, {"simulated": self.adapter}, {"simulated": SECRET}, clock=clock
        )

    def _receive(self, request: httpx.Request) -> httpx.Response:
        try:
            outcome = self.service.handle_callback(
                "simulated", request.content, request.headers.get(SIGNATURE_HEADER)
            )
        except CallbackSignatureInvalid:
            return httpx.Response(401)
        response = httpx.Response(200, json=outcome.to_dict())
        self.delivered.append(response)
        return response


@pytest.fixture
def provider(engine: Engine, clock: ManualClock) -> Provider:
    return Provider(engine, clock)


def customer() -> str:
    return f"cus_{uuid.uuid4().hex[:12]}"


def test_a_verification_is_pending_until_the_provider_calls_back_approved(
    engine: Engine, provider: Provider, clock: ManualClock
) -> None:
    cus = customer()
    kyc = KycService(engine, clock=clock)
    started = provider.service.start(cus, 2, applicant_name="Jane Doe")
    assert started.status is VerificationStatus.PENDING and started.provider_ref.startswith("sim_")
    assert kyc.profile(cus).status is KycStatus.PENDING
    assert provider.adapter.deliver_due() == 0  # not due yet: the provider takes its time
    clock.advance(seconds=31)
    assert provider.adapter.deliver_due() == 1
    profile = kyc.profile(cus)
    assert (profile.status, profile.tier, effective_tier(profile)) == (
        KycStatus.VERIFIED, Tier.ENHANCED, Tier.ENHANCED,
    )  # fmt: skip
    [verification] = provider.service.verifications(cus)
    assert verification.status is VerificationStatus.APPROVED
    assert verification.documents_expire_at == clock.now + dt.timedelta(days=365)


@pytest.mark.parametrize(
    ("name", "status", "kyc_status"),
    [
        ("Reject Me", VerificationStatus.REJECTED, KycStatus.REJECTED),
        ("Unclear Person", VerificationStatus.NEEDS_MORE_INFORMATION, KycStatus.PENDING),
    ],
)
def test_rejected_and_needs_more_information_results(
    engine: Engine, provider: Provider, clock: ManualClock, name: str,
    status: VerificationStatus, kyc_status: KycStatus,
) -> None:  # fmt: skip
    cus = customer()
    provider.service.start(cus, 1, applicant_name=name)
    clock.advance(minutes=1)
    provider.adapter.deliver_due()
    assert provider.service.verifications(cus)[0].status is status
    assert KycService(engine, clock=clock).profile(cus).status is kyc_status


def test_a_replayed_callback_is_applied_once(engine: Engine, provider: Provider) -> None:
    cus = customer()
    started = provider.service.start(cus, 1, applicant_name="Jane Doe")
    scheduled = provider.adapter.scheduled[started.provider_ref]
    body, headers = provider.adapter.signed_callback(scheduled)
    first = provider.service.handle_callback("simulated", body, headers[SIGNATURE_HEADER])
    again = provider.service.handle_callback("simulated", body, headers[SIGNATURE_HEADER])
    assert (first.status, again.status) == ("applied", "duplicate")
    with engine.connect() as conn:
        results = conn.scalars(
            select(audit_entries.c.action).where(
                audit_entries.c.action == "compliance.kyc.verification_result",
                audit_entries.c.subject == f"customer:{cus}",
            )
        ).all()
    assert len(results) == 1


def test_forged_unsigned_and_stale_callbacks_are_refused(
    engine: Engine, provider: Provider, clock: ManualClock
) -> None:
    cus = customer()
    started = provider.service.start(cus, 1, applicant_name="Jane Doe")
    body, headers = provider.adapter.signed_callback(
        provider.adapter.scheduled[started.provider_ref]
    )
    signature = headers[SIGNATURE_HEADER]
    tampered = body.replace(b'"tier":1', b'"tier":2')
    for bad_body, bad_signature in [
        (tampered, signature),
        (body, None),
        (body, "t=1,v1=00"),
        (body, sign_callback(b"another-secret", body, clock.now)),
    ]:
        with pytest.raises(CallbackSignatureInvalid):
            provider.service.handle_callback("simulated", bad_body, bad_signature)
    clock.advance(minutes=6)  # a well-signed callback captured six minutes ago
    with pytest.raises(CallbackSignatureInvalid):
        provider.service.handle_callback("simulated", body, signature)
    assert KycService(engine, clock=clock).profile(cus).status is KycStatus.PENDING


def test_a_callback_for_an_unknown_reference_is_refused(
    provider: Provider, clock: ManualClock
) -> None:
    body = json.dumps({"event_id": str(uuid.uuid4()), "reference": "sim_nope",
                       "result": "approved", "tier": 1}).encode()  # fmt: skip
    with pytest.raises(UnknownVerification):
        provider.service.handle_callback("simulated", body, sign_callback(SECRET, body, clock.now))


def test_expired_documents_drop_the_tier_until_verified_again(
    engine: Engine, provider: Provider, clock: ManualClock
) -> None:
    cus, other = customer(), customer()
    kyc = KycService(engine, clock=clock)
    provider.service.start(cus, 1, applicant_name="Jane Doe")
    clock.advance(minutes=1)
    provider.adapter.deliver_due()
    clock.advance(days=200)
    provider.service.start(other, 1, applicant_name="John Roe")
    clock.advance(minutes=1)
    provider.adapter.deliver_due()
    clock.advance(days=164)
    assert provider.service.expire_documents() == []  # a day short of 365
    clock.advance(days=1)
    [lapsed] = provider.service.expire_documents()
    assert lapsed.customer_id == cus and lapsed.status is VerificationStatus.EXPIRED
    profile = kyc.profile(cus)
    assert (profile.status, profile.tier, effective_tier(profile)) == (
        KycStatus.EXPIRED, Tier.BASIC, Tier.BASIC,
    )  # fmt: skip
    assert kyc.profile(other).status is KycStatus.VERIFIED
    assert provider.service.expire_documents() == []  # idempotent
    provider.service.start(cus, 1, applicant_name="Jane Doe")  # re-verification
    clock.advance(minutes=1)
    provider.adapter.deliver_due()
    assert kyc.profile(cus).status is KycStatus.VERIFIED


def test_a_failed_delivery_stays_scheduled_and_is_retried_with_backoff(
    clock: ManualClock,
) -> None:
    attempts: list[int] = []

    def flaky(_request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        return httpx.Response(503)

    adapter = SimulatedKycProvider(SECRET, httpx.Client(transport=httpx.MockTransport(flaky)),
                                   delay=dt.timedelta(0), clock=clock)  # fmt: skip
    adapter.schedule("sim_x", "http://twinrail.test/cb", VerificationResult.APPROVED, Tier.IDENTITY)
    assert adapter.deliver_due() == 0 and len(attempts) == 1
    assert adapter.deliver_due() == 0 and len(attempts) == 1  # backing off
    clock.advance(seconds=3)
    adapter.deliver_due()
    assert len(attempts) == 2 and "sim_x" in adapter.scheduled


def test_signature_check_accepts_its_own_signature_within_the_tolerance() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    body = b'{"a":1}'
    check_callback_signature(
        SECRET, body, sign_callback(SECRET, body, now), now + dt.timedelta(minutes=4)
    )


def test_a_lapsed_verification_holds_the_customer_to_tier_0_limits_again(
    engine: Engine, provider: Provider, clock: ManualClock
) -> None:
    from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
    from twinrail.compliance.domain.decision import Outcome
    from twinrail.compliance.service.decision_service import DecideMovement, DecisionService
    from twinrail.compliance.service.screening_service import ScreeningService
    from twinrail.compliance.service.settings import ComplianceSettings

    settings = ComplianceSettings()
    decisions = DecisionService(
        engine, ScreeningService(engine, settings=settings, clock=clock),
        FixedPriceTable(settings.prices_eur, settings.asset_decimals), clock=clock,
    )  # fmt: skip

    def pay_500_eur() -> Outcome:
        cmd = DecideMovement(f"po_{uuid.uuid4().hex}", cus, "bank_payment", "EUR", 500_00)
        return decisions.decide(cmd).decision.outcome

    cus = customer()
    provider.service.start(cus, 1, applicant_name="Jane Doe")
    clock.advance(minutes=1)
    provider.adapter.deliver_due()
    assert pay_500_eur() is Outcome.ALLOW  # tier 1
    clock.advance(days=366)
    provider.service.expire_documents()
    assert pay_500_eur() is Outcome.BLOCK  # back to tier 0's 150 EUR per transaction


def test_every_process_on_one_database_signs_simulated_callbacks_alike(engine: Engine) -> None:
    from pydantic import SecretStr

    from twinrail.compliance.service.kyc_provider_service import KycProviderSettings
    from twinrail.compliance.service.wiring import build_compliance_services

    first, second = build_compliance_services(engine), build_compliance_services(engine)
    assert first.verifications.secrets == second.verifications.secrets
    configured = KycProviderSettings(simulated_secret=SecretStr("configured"))
    assert build_compliance_services(engine, settings=configured).verifications.secrets == {
        "simulated": b"configured"
    }
