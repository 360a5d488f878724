"""The compliance API over HTTP: KYC start and the provider's signed callback through the real
endpoint, tenant isolation, beneficial owners, false positives and cases under four eyes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from tests.compliance.conftest import FTM
from twinrail.api.domain.model import Principal
from twinrail.api.domain.roles import Role
from twinrail.compliance.domain.cases import Alert, AlertKind, Severity
from twinrail.compliance.domain.kyc_provider import SIGNATURE_HEADER, sign_callback
from twinrail.compliance.service.kyc_provider_service import KycProviderSettings
from twinrail.compliance.service.wiring import ComplianceServices, build_compliance_services
from twinrail.ledger.domain.commands import DefineAsset
from twinrail.pipeline.service.review_decisions import apply_review_decision
from twinrail.platform.outbox import fetch_unpublished

from .conftest import Caller, fund, make_app, new_caller

SECRET = "test-only-callback-secret"


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """The app, its compliance services calling back through this very client over HTTP."""
    app = make_app(engine)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        settings = KycProviderSettings(
            simulated_secret=SecretStr(SECRET), callback_base_url="http://testserver"
        )
        services = build_compliance_services(engine, settings=settings, provider_http=test_client)
        services.provider.delay = dt.timedelta(0)  # type: ignore[attr-defined]
        app.state.compliance = services
        yield test_client


def compliance(client: TestClient) -> ComplianceServices:
    services: ComplianceServices = client.app.state.compliance  # type: ignore[attr-defined]
    return services


def post(client: TestClient, caller: Caller, url: str, body: object, method: str = "POST"):  # type: ignore[no-untyped-def]
    headers = {**caller.headers, "Idempotency-Key": uuid.uuid4().hex}
    return client.request(method, url, json=body, headers=headers)


def new_customer(client: TestClient, caller: Caller, name: str, kind: str = "individual") -> str:
    response = post(client, caller, "/v1/customers", {"kind": kind, "name": name})
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def test_a_client_starts_kyc_and_the_signed_callback_over_http_verifies_the_customer(
    client: TestClient,
) -> None:
    alice = new_caller(client, Role.CLIENT)
    cus = new_customer(client, alice, "Jane Doe")
    started = post(client, alice, f"/v1/compliance/customers/{cus}/kyc/verifications", {"tier": 1})
    assert started.status_code == 201, started.text
    assert started.json()["status"] == "pending" and started.json()["effective_tier"] == 0
    assert compliance(client).provider.deliver_due() == 1  # type: ignore[attr-defined]
    kyc = client.get(f"/v1/compliance/customers/{cus}/kyc", headers=alice.headers).json()
    assert (kyc["status"], kyc["tier"], kyc["effective_tier"]) == ("verified", 1, 1)
    assert kyc["verifications"][0]["status"] == "approved"
    assert kyc["verifications"][0]["documents_expire_at"]


def test_the_callback_endpoint_refuses_bad_signatures_and_ignores_replays(
    client: TestClient,
) -> None:
    alice = new_caller(client, Role.CLIENT)
    cus = new_customer(client, alice, "Jane Doe")
    post(client, alice, f"/v1/compliance/customers/{cus}/kyc/verifications", {"tier": 1})
    provider = compliance(client).provider
    [scheduled] = provider.scheduled.values()  # type: ignore[attr-defined]
    body, headers = provider.signed_callback(scheduled)  # type: ignore[attr-defined]
    url = "/v1/compliance/kyc/callbacks/simulated"
    forged = {**headers, SIGNATURE_HEADER: sign_callback(b"guess", body, dt.datetime.now(dt.UTC))}
    for bad in (forged, {"Content-Type": "application/json"}):
        refused = client.post(url, content=body, headers=bad)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "compliance.kyc.callback_signature_invalid"
    assert client.post(url, content=body, headers=headers).json() == {"status": "applied"}
    assert client.post(url, content=body, headers=headers).json() == {"status": "duplicate"}
    unknown = client.post("/v1/compliance/kyc/callbacks/onfido", content=body, headers=headers)
    assert unknown.status_code == 401


def test_another_tenants_customer_answers_404_on_every_kyc_route(client: TestClient) -> None:
    alice, bob = new_caller(client, Role.CLIENT), new_caller(client, Role.CLIENT)
    cus = new_customer(client, alice, "Acme Holding", kind="business")
    assert client.get(f"/v1/compliance/customers/{cus}/kyc", headers=bob.headers).status_code == 404
    started = post(client, bob, f"/v1/compliance/customers/{cus}/kyc/verifications", {"tier": 1})
    assert started.status_code == 404
    owners = post(client, bob, f"/v1/compliance/customers/{cus}/beneficial-owners",
                  {"owners": []}, method="PUT")  # fmt: skip
    assert owners.status_code == 404
    assert (
        client.get(f"/v1/compliance/customers/{cus}/kyc", headers=alice.headers).status_code == 200
    )
    # a client never sees screening results or cases, even of its own customers
    screening = client.get(f"/v1/compliance/customers/{cus}/screening", headers=alice.headers)
    assert screening.status_code == 403
    assert client.get("/v1/compliance/cases", headers=alice.headers).status_code == 403


def test_owners_are_screened_and_a_hit_is_marked_false_positive_under_four_eyes(
    client: TestClient,
) -> None:
    compliance(client).screening.load_list("ftm", FTM)
    alice = new_caller(client, Role.CLIENT)
    ann, ben = new_caller(client, Role.COMPLIANCE_OFFICER), new_caller(client, Role.ADMIN)
    cus = new_customer(client, alice, "Acme Holding", kind="business")
    owner = {"owner_id": "o1", "name": "Georgios Papadopoulos", "birth_date": "1955-03-02",
             "country": "GR", "ownership_percent": "50"}  # fmt: skip
    owners = {"owners": [owner]}
    put = post(client, alice, f"/v1/compliance/customers/{cus}/beneficial-owners", owners, "PUT")
    assert put.status_code == 200, put.text
    [hit] = [h for h in put.json()["hits"] if h["entity_id"] == "NK-greek-1"]
    assert hit["owner"] and not hit["suppressed"]
    proposed = post(client, ann, f"/v1/compliance/customers/{cus}/false-positives",
                    {"hit_id": hit["hit_id"], "reason": "namesake, other town"})  # fmt: skip
    assert proposed.status_code == 201, proposed.text
    mark_id = proposed.json()["mark_id"]
    same = post(client, ann, f"/v1/compliance/false-positives/{mark_id}/approve", {})
    assert same.status_code == 403 and same.json()["code"] == "compliance.case.four_eyes"
    approved = post(client, ben, f"/v1/compliance/false-positives/{mark_id}/approve", {})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    screening = client.get(f"/v1/compliance/customers/{cus}/screening", headers=ann.headers)
    assert [h["suppressed"] for h in screening.json()["hits"] if h["hit_id"] == hit["hit_id"]] == [
        True
    ]


def test_a_case_decision_needs_four_eyes_and_releasing_a_blocked_payment_two_approvers(
    client: TestClient,
) -> None:
    ann, ben, cat = (new_caller(client, Role.COMPLIANCE_OFFICER) for _ in range(3))
    auditor = new_caller(client, Role.AUDITOR)
    case_id = compliance(client).cases.raise_alert("cus_x", _blocked_alert("po_77"))
    base = f"/v1/compliance/cases/{case_id}"
    assert post(client, auditor, f"{base}/comments", {"body": "hm"}).status_code == 403
    assert post(client, ann, f"{base}/assignment", {"assignee": ann.client_id}).status_code == 200
    proposed = post(client, ann, f"{base}/decisions", {"verdict": "allow", "reasons": ["ok"]})
    assert proposed.status_code == 201, proposed.text
    decision = proposed.json()["decisions"][0]
    assert decision["required_approvals"] == 2
    approve = f"{base}/decisions/{decision['decision_id']}/approvals"
    refused = post(client, ann, approve, {})
    assert refused.status_code == 403 and refused.json()["code"] == "compliance.case.four_eyes"
    assert post(client, ben, approve, {}).json()["status"] == "open"
    assert post(client, ben, approve, {}).status_code == 403  # the same approver twice
    done = post(client, cat, approve, {"comment": "second approval"})
    assert done.status_code == 200 and done.json()["status"] == "closed"
    assert done.json()["decisions"][0]["approved_by"] == [ben.client_id, cat.client_id]
    case = client.get(base, headers=auditor.headers).json()
    assert case["order_ids"] == ["po_77"] and case["assignee"] == ann.client_id
    with client.app.state.services.platform.engine.connect() as conn:  # type: ignore[attr-defined]
        events = [m for m in fetch_unpublished(conn, 10_000)
                  if m.topic == "compliance.review_decided"]  # fmt: skip
    assert [e.payload["verdict"] for e in events] == ["allow"]
    assert events[0].payload["decided_by"] == [ann.client_id, ben.client_id, cat.client_id]
    report = client.get(f"{base}/report?format=markdown", headers=auditor.headers)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/markdown")
    assert case_id in report.text


def test_the_review_queue_pages_with_a_cursor_and_filters_by_status(client: TestClient) -> None:
    officer = new_caller(client, Role.COMPLIANCE_OFFICER)
    ids = [compliance(client).cases.raise_alert(f"cus_{i}", _blocked_alert(f"po_{i}"))
           for i in range(3)]  # fmt: skip
    seen: list[str] = []
    url = "/v1/compliance/cases?limit=2&status=open"
    while url:
        page = client.get(url, headers=officer.headers).json()
        seen += [c["id"] for c in page["data"]]
        url = f"/v1/compliance/cases?limit=2&status=open&cursor={page['next_cursor']}" if page[
            "next_cursor"] else ""  # fmt: skip
    assert [i for i in seen if i in ids] == sorted(ids)
    closed = client.get("/v1/compliance/cases?status=closed", headers=officer.headers).json()
    assert not {c["id"] for c in closed["data"]} & set(ids)


def test_list_status_shows_loaded_versions(client: TestClient) -> None:
    compliance(client).screening.load_list("ftm", FTM)
    operator = new_caller(client, Role.OPERATOR)
    lists = client.get("/v1/compliance/lists", headers=operator.headers).json()["data"]
    assert [(v["list_name"], v["version"], v["status"]) for v in lists] == [("ftm", 1, "active")]


def _blocked_alert(order_id: str) -> Alert:
    return Alert(AlertKind.DECISION, f"dec_{uuid.uuid4().hex}", Severity.HIGH,
                 {"outcome": "block"}, "compliance-engine", dt.datetime.now(dt.UTC), order_id,
                 "cli_A", "block")  # fmt: skip


def test_an_order_held_for_review_is_released_by_a_four_eyes_case_decision(
    client: TestClient,
) -> None:
    alice = new_caller(client, Role.CLIENT)
    ann, ben = new_caller(client, Role.COMPLIANCE_OFFICER), new_caller(client, Role.ADMIN)
    services = client.app.state.services  # type: ignore[attr-defined]
    services.platform.ledger.define_asset(DefineAsset("CHF", 2))  # no EUR price: review
    cus = new_customer(client, alice, "Jane Doe")
    accounts = [
        post(client, alice, "/v1/accounts", {"customer_id": cus, "asset": "CHF"}).json()["id"]
        for _ in range(2)
    ]
    principal = Principal(alice.client_id, alice.role, "test")
    source = services.customers.account(principal, accounts[0]).ledger_account_id
    fund(services.platform.ledger, source, 10_000, "CHF")
    held = post(client, alice, "/v1/payment-orders", {
        "type": "internal_transfer", "amount": "6000", "asset": "CHF",
        "source_account_id": accounts[0], "destination_account_id": accounts[1],
    }).json()  # fmt: skip
    assert held["state"] == "in_review", held
    engine = services.platform.engine
    with engine.connect() as conn:
        messages = fetch_unpublished(conn, 10_000)
    for message in messages:  # what the worker's bus subscription does
        compliance(client).cases.handle(message)
    queue = client.get("/v1/compliance/cases?status=open", headers=ann.headers).json()["data"]
    [case] = [c for c in queue if c["customer_id"] == cus]
    base = f"/v1/compliance/cases/{case['id']}"
    assert client.get(base, headers=ann.headers).json()["order_ids"] == [held["id"]]
    proposed = post(client, ann, f"{base}/decisions", {"verdict": "allow", "reasons": ["CHF ok"]})
    decision_id = proposed.json()["decisions"][0]["decision_id"]
    assert proposed.json()["decisions"][0]["required_approvals"] == 1
    assert post(client, ben, f"{base}/decisions/{decision_id}/approvals", {}).status_code == 200
    with engine.connect() as conn:
        [decided] = [m for m in fetch_unpublished(conn, 10_000)
                     if m.topic == "compliance.review_decided"]  # fmt: skip
    apply_review_decision(services.payment_orders, decided)  # the lead's pipeline consumer
    order = client.get(f"/v1/payment-orders/{held['id']}", headers=alice.headers).json()
    assert order["state"] == "completed", order


def test_staff_screen_a_customer_and_its_hit_opens_a_case(client: TestClient) -> None:
    compliance(client).screening.load_list("ftm", FTM)
    alice, ann = new_caller(client, Role.CLIENT), new_caller(client, Role.COMPLIANCE_OFFICER)
    cus = new_customer(client, alice, "Viktor Anatolyevich Bout")
    url = f"/v1/compliance/customers/{cus}/screening"
    assert post(client, alice, url, {}).status_code == 403
    screened = post(client, ann, url, {})
    assert screened.status_code == 200, screened.text
    assert [h["owner"] for h in screened.json()["hits"]] and not screened.json()["hits"][0]["owner"]
    engine = client.app.state.services.platform.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        messages = fetch_unpublished(conn, 10_000)
    for message in messages:
        compliance(client).cases.handle(message)
    queue = client.get("/v1/compliance/cases", headers=ann.headers).json()["data"]
    assert [c["customer_id"] for c in queue] == [cus]
