"""Standing orders authorised with redirect and decoupled SCA over real TLS, chosen exactly as for
single payments: the OTP page shows amount, payee and schedule and the code is bound to all three;
the bank app approves or rejects; a running order is stopped through a redirect cancellation SCA;
and nothing executes before the SCA is finalised. Every TPP-facing answer is checked against the
spec (the pages are driven with plain HTTP; tests/browser drives them in chromium)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from tests.sandbox.conftest import PSU_IP, headers
from tests.sandbox.pis_flow import authorise_payment, entries
from tests.sandbox.sca_flow import (
    CREDITOR_IBAN,
    NOK_URI,
    OK_URI,
    SCT,
    RunningBank,
    assert_embedded_step_refused,
    auth_id_of,
    decoupled_headers,
    otp_for,
    page_path,
    payment_body,
    redirect_headers,
    run_bank,
    sca_status,
)
from twinrail.sandbox.bank.domain.authorisation import ScaPolicy
from twinrail.sandbox.bank.domain.periodic import execution_dates, parse_schedule
from twinrail.sandbox.bank.store.tables import periodic_payments

BASE = f"/v1/periodic-payments/{SCT}"


@pytest.fixture(scope="module")
def running(qtsp, tmp_path_factory, session_clock) -> Iterator[RunningBank]:
    # Exemptions on: they must not reach the initiation of a standing order.
    policy = ScaPolicy(exemptions=True)
    yield from run_bank("periodic-sca", qtsp, tmp_path_factory, session_clock, policy)


def order_body(running: RunningBank, amount: str = "31.50", **schedule: Any) -> dict[str, Any]:
    today = running.bank.service.clock().date()
    body = payment_body(running.alice_current().iban, amount, creditor_name="Landlord GmbH")
    body["endToEndIdentification"] = f"SPO-{uuid.uuid4().hex[:12]}"
    body.update({"frequency": "Weekly", "startDate": today.isoformat(), **schedule})
    return body


def initiate(running: RunningBank, body: dict[str, Any], sent: dict[str, str]) -> dict[str, Any]:
    response = running.tpp.post(BASE, json=body, headers=sent)
    assert response.status_code == 201, response.text
    out = response.json()
    out["approach"] = response.headers["ASPSP-SCA-Approach"]
    return out


def log_in_and_send_code(running: RunningBank, path: str) -> None:
    form = {"psu_id": "alice", "password": "alice-sandbox"}
    assert running.psu.post(f"{path}/login", data=form).status_code == 303
    assert running.psu.post(f"{path}/send-code").status_code == 303


def start_cancellation(
    running: RunningBank, payment_id: str, sent: dict[str, str], approach: str
) -> dict[str, Any]:
    """DELETE a running order (202: the PSU must authorise it), then start the cancellation
    authorisation in `approach`. The 201 body."""
    assert running.tpp.delete(f"{BASE}/{payment_id}", headers=headers()).status_code == 202
    started = running.tpp.post(f"{BASE}/{payment_id}/cancellation-authorisations", headers=sent)
    assert started.status_code == 201, started.text
    assert started.headers["ASPSP-SCA-Approach"] == approach
    return dict(started.json())


def order_status(running: RunningBank, payment_id: str) -> str:
    response = running.tpp.get(f"{BASE}/{payment_id}/status", headers=headers())
    assert response.status_code == 200, response.text
    return str(response.json()["transactionStatus"])


def debits(running: RunningBank, reference: str) -> list[Any]:
    account = running.alice_current()
    found = entries(running.bank, account.resource_id).values()
    ours = (t for t in found if t.entry_reference == reference and t.amount < 0)
    return sorted(ours, key=lambda t: t.booking_date)


def execute_due(running: RunningBank) -> None:
    running.bank.app.state.periodic_payments.execute_due()


def authorise_by_redirect(running: RunningBank, body: dict[str, Any]) -> None:
    path = page_path(body, running)
    log_in_and_send_code(running, path)
    done = running.psu.post(f"{path}/otp", data={"otp": otp_for(running, auth_id_of(body))})
    assert (done.status_code, done.headers["Location"]) == (303, OK_URI)


def test_a_redirect_standing_order_offers_the_login_page_and_no_embedded_start(running):
    body = initiate(running, order_body(running), redirect_headers())
    assert body["approach"] == "REDIRECT"
    assert body["transactionStatus"] == "RCVD" and body["scaStatus"] == "received"
    assert "startAuthorisationWithPsuAuthentication" not in body["_links"]
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "received"
    page = running.psu.get(page_path(body, running))
    assert page.status_code == 200 and 'name="password"' in page.text


def test_the_otp_page_shows_amount_payee_and_schedule_and_finalising_runs_the_order(running):
    sent = order_body(running, "31.70", frequency="Monthly", dayOfExecution="3")
    body = initiate(running, sent, redirect_headers())
    path, link = page_path(body, running), body["_links"]["scaStatus"]["href"]
    log_in_and_send_code(running, path)
    assert sca_status(running.tpp, link) == "scaMethodSelected"
    otp_page = running.psu.get(path).text
    assert 'id="amount">EUR 31.70<' in otp_page and 'id="payee">Landlord GmbH<' in otp_page
    assert CREDITOR_IBAN in otp_page
    assert 'id="frequency">Monthly<' in otp_page
    assert f'id="start-date">{sent["startDate"]}<' in otp_page
    assert 'id="day-of-execution">3<' in otp_page
    phone = running.psu.get("/psu/phone/alice").text
    assert f"Monthly from {sent['startDate']}" in phone
    done = running.psu.post(f"{path}/otp", data={"otp": otp_for(running, auth_id_of(body))})
    assert (done.status_code, done.headers["Location"]) == (303, OK_URI)
    assert sca_status(running.tpp, link) == "finalised"
    assert order_status(running, body["paymentId"]) == "ACTC"


@pytest.mark.parametrize(
    ("column", "value"),
    [("amount", 9900), ("creditor_name", "Mallory"), ("frequency", "Daily"),
     ("start_date", "later")],
)  # fmt: skip
def test_the_otp_is_bound_to_amount_payee_and_schedule(running, column, value):
    """Dynamic linking: the code shown is refused once any of them changed behind the PSU."""
    body = initiate(running, order_body(running), redirect_headers())
    path = page_path(body, running)
    log_in_and_send_code(running, path)
    shown = otp_for(running, auth_id_of(body))
    if value == "later":
        value = running.bank.service.clock().date() + dt.timedelta(days=5)
    with running.bank.service.engine.begin() as conn:  # a man in the middle edits the order
        conn.execute(
            update(periodic_payments)
            .where(periodic_payments.c.payment_id == body["paymentId"])
            .values({column: value})
        )
    assert otp_for(running, auth_id_of(body)) != shown
    refused = running.psu.post(f"{path}/otp", data={"otp": shown})
    assert refused.status_code == 401
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "scaMethodSelected"
    assert order_status(running, body["paymentId"]) == "RCVD"


def test_cancel_on_the_banks_page_rejects_the_order_and_returns_to_the_nok_uri(running):
    body = initiate(running, order_body(running), redirect_headers())
    cancelled = running.psu.post(f"{page_path(body, running)}/cancel")
    assert (cancelled.status_code, cancelled.headers["Location"]) == (303, NOK_URI)
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"
    assert order_status(running, body["paymentId"]) == "RJCT"


def test_an_abandoned_redirect_sca_rejects_the_order(running, bank_clock):
    body = initiate(running, order_body(running), redirect_headers())
    log_in_and_send_code(running, page_path(body, running))
    bank_clock.advance(minutes=11)
    assert sca_status(running.tpp, body["_links"]["scaStatus"]["href"]) == "failed"
    assert order_status(running, body["paymentId"]) == "RJCT"


def test_embedded_steps_on_a_redirect_order_authorisation_are_service_invalid(running):
    body = initiate(running, order_body(running), redirect_headers())
    assert_embedded_step_refused(running, body["_links"]["scaStatus"]["href"])


def test_a_redirect_without_tpp_redirect_uri_stores_no_order(running):
    def count() -> int:
        with running.bank.service.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM periodic_payments").scalar())

    before = count()
    sent = headers(PSU_IP_Address=PSU_IP, TPP_Redirect_Preferred="true")
    response = running.tpp.post(BASE, json=order_body(running), headers=sent)
    assert response.status_code == 400
    assert response.json()["tppMessages"][0]["code"] == "FORMAT_ERROR"
    assert count() == before


def test_without_preference_headers_the_order_keeps_the_embedded_approach(running):
    sent = headers(PSU_IP_Address=PSU_IP)
    body = initiate(running, order_body(running), sent)
    assert body["approach"] == "EMBEDDED"
    assert "startAuthorisationWithPsuAuthentication" in body["_links"]
    assert "scaRedirect" not in body["_links"]


@pytest.mark.parametrize(("decision", "sca", "transaction"), [
    ("approve", "finalised", "ACTC"), ("reject", "failed", "RJCT"),
])  # fmt: skip
def test_a_decoupled_order_is_decided_in_the_bank_app(running, decision, sca, transaction):
    body = initiate(running, order_body(running, "32.40"), decoupled_headers())
    assert body["approach"] == "DECOUPLED" and body["scaStatus"] == "started"
    assert "scaRedirect" not in body["_links"] and body["psuMessage"]
    link = body["_links"]["scaStatus"]["href"]
    app = running.psu.get("/psu/app/alice").text
    assert auth_id_of(body) in app and "EUR 32.40" in app and "Landlord GmbH" in app
    assert 'id="frequency">Weekly<' in app
    assert auth_id_of(body) not in running.psu.get("/psu/app/bob").text
    assert running.psu.post(f"/psu/app/bob/{auth_id_of(body)}/approve").status_code == 409
    assert sca_status(running.tpp, link) == "started"
    assert running.psu.post(f"/psu/app/alice/{auth_id_of(body)}/{decision}").status_code == 303
    assert sca_status(running.tpp, link) == sca
    assert order_status(running, body["paymentId"]) == transaction


def test_a_decoupled_authorisation_started_by_the_tpp(running):
    body = initiate(running, order_body(running), headers(PSU_IP_Address=PSU_IP))
    started = running.tpp.post(
        f"{BASE}/{body['paymentId']}/authorisations", headers=decoupled_headers(PSU_ID="alice")
    )
    assert started.status_code == 201, started.text
    assert started.headers["ASPSP-SCA-Approach"] == "DECOUPLED"
    auth = started.json()
    assert auth["scaStatus"] == "started"
    assert running.psu.post(f"/psu/app/alice/{auth['authorisationId']}/approve").status_code == 303
    assert sca_status(running.tpp, auth["_links"]["scaStatus"]["href"]) == "finalised"
    assert order_status(running, body["paymentId"]) == "ACTC"


def test_a_running_order_is_stopped_through_a_redirect_cancellation_sca(running, bank_clock):
    sent = order_body(running, "33.10")
    body = initiate(running, sent, redirect_headers())
    authorise_by_redirect(running, body)
    payment_id = body["paymentId"]
    cancellation = start_cancellation(running, payment_id, redirect_headers(), "REDIRECT")
    assert cancellation["scaStatus"] == "received"
    path = page_path(cancellation, running)
    log_in_and_send_code(running, path)
    page = running.psu.get(path).text
    assert "Stop the standing order of" in page and 'id="amount">EUR 33.10<' in page
    assert 'id="frequency">Weekly<' in page
    code = otp_for(running, cancellation["authorisationId"])
    done = running.psu.post(f"{path}/otp", data={"otp": code})
    assert (done.status_code, done.headers["Location"]) == (303, OK_URI)
    assert sca_status(running.tpp, cancellation["_links"]["scaStatus"]["href"]) == "finalised"
    assert order_status(running, payment_id) == "CANC"
    executed = len(debits(running, sent["endToEndIdentification"]))
    bank_clock.advance(days=15)
    execute_due(running)
    assert len(debits(running, sent["endToEndIdentification"])) == executed


def test_a_failed_cancellation_sca_leaves_the_order_running(running):
    body = initiate(running, order_body(running), redirect_headers())
    authorise_by_redirect(running, body)
    payment_id = body["paymentId"]
    cancellation = start_cancellation(running, payment_id, redirect_headers(), "REDIRECT")
    gone = running.psu.post(f"{page_path(cancellation, running)}/cancel")
    assert gone.headers["Location"] == NOK_URI
    assert order_status(running, payment_id) == "ACTC"


def test_executions_start_only_once_the_sca_is_finalised(running, bank_clock):
    today = bank_clock().date()
    sent = order_body(running, "12.34")
    reference = sent["endToEndIdentification"]
    body = initiate(running, sent, redirect_headers())
    execute_due(running)
    assert debits(running, reference) == [] and order_status(running, body["paymentId"]) == "RCVD"
    authorise_by_redirect(running, body)
    bank_clock.advance(days=8)
    execute_due(running)
    expected = list(execution_dates(parse_schedule(sent, today), bank_clock().date()))
    booked = debits(running, reference)
    assert [t.booking_date for t in booked] == expected and len(expected) >= 1
    assert {t.amount for t in booked} == {-1234}


@pytest.mark.parametrize("decide", [None, "reject"])
def test_an_order_whose_sca_never_finalised_never_executes(running, bank_clock, decide):
    sent = order_body(running, "12.35")
    body = initiate(running, sent, decoupled_headers())
    if decide:
        running.psu.post(f"/psu/app/alice/{auth_id_of(body)}/{decide}")
    bank_clock.advance(days=8)
    execute_due(running)
    assert order_status(running, body["paymentId"]) == "RJCT"
    assert debits(running, sent["endToEndIdentification"]) == []


@pytest.mark.parametrize("amount", ["5.00", "41.00"])
def test_no_exemption_reaches_the_initiation_of_a_standing_order(running, amount):
    """RTS art. 14: creating a series of recurring payments needs SCA, even right after an
    SCA'd single payment of the same amount to the same payee (which exempts a single repeat)
    and even when low-value; only the executions that follow need none."""
    iban = running.alice_current().iban
    single = running.tpp.post(
        f"/v1/payments/{SCT}", json=payment_body(iban, amount, creditor_name="Landlord GmbH"),
        headers=headers(PSU_IP_Address=PSU_IP),
    ).json()  # fmt: skip
    if single["transactionStatus"] == "RCVD":
        final = authorise_payment(running.tpp, SCT, single["paymentId"]).json()
        assert final["scaStatus"] == "finalised"
    twin = running.tpp.post(
        f"/v1/payments/{SCT}", json=payment_body(iban, amount, creditor_name="Landlord GmbH"),
        headers=headers(PSU_IP_Address=PSU_IP),
    ).json()  # fmt: skip
    assert twin["transactionStatus"] == "ACTC" and twin["scaStatus"] == "exempted"
    body = initiate(running, order_body(running, amount), redirect_headers())
    assert body["transactionStatus"] == "RCVD" and body["scaStatus"] == "received"
    assert "scaRedirect" in body["_links"]


def test_the_sca_of_a_standing_order_resets_the_low_value_counter(running):
    """The low-value exemption counts "since the last SCA": a standing order's SCA is one."""
    from twinrail.sandbox.bank.domain.exemptions import LowValueCounter
    from twinrail.sandbox.bank.store.sca_store import ScaStore

    def counter() -> LowValueCounter:
        with running.bank.service.engine.connect() as conn:
            return ScaStore(conn).low_value_counter("alice")

    small = payment_body(
        running.alice_current().iban, "2.50", creditor_iban="ES9121000418450200051332"
    )
    exempted = running.tpp.post(
        f"/v1/payments/{SCT}", json=small, headers=headers(PSU_IP_Address=PSU_IP)
    ).json()
    assert exempted["scaStatus"] == "exempted" and counter().count >= 1
    authorise_by_redirect(running, initiate(running, order_body(running), redirect_headers()))
    assert counter() == LowValueCounter()


def test_a_running_order_is_stopped_through_a_decoupled_cancellation_sca(running):
    body = initiate(running, order_body(running, "33.20"), decoupled_headers())
    assert running.psu.post(f"/psu/app/alice/{auth_id_of(body)}/approve").status_code == 303
    payment_id = body["paymentId"]
    assert order_status(running, payment_id) == "ACTC"
    cancellation = start_cancellation(running, payment_id, decoupled_headers(), "DECOUPLED")
    assert cancellation["scaStatus"] == "started"
    app = running.psu.get("/psu/app/alice").text
    assert "Stop the standing order of" in app and "EUR 33.20" in app
    approve = f"/psu/app/alice/{cancellation['authorisationId']}/approve"
    assert running.psu.post(approve).status_code == 303
    assert sca_status(running.tpp, cancellation["_links"]["scaStatus"]["href"]) == "finalised"
    assert order_status(running, payment_id) == "CANC"
