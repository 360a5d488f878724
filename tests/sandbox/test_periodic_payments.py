"""Standing orders over mutual TLS, every answer checked against the spec: initiation, SCA, the
executions on their schedule in sandbox time (each a booked debit), cancellation, bad input."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.sandbox.ais_flow import ais_headers, authorise_consent, consent_body, create_consent
from tests.sandbox.conftest import PSU_IP, headers
from tests.sandbox.pis_flow import CREDITOR_IBAN, SCT, codes, entries
from twinrail.sandbox.bank.domain.periodic import execution_dates, parse_schedule

BASE = f"/v1/periodic-payments/{SCT}"


@pytest.fixture(scope="module", autouse=True)
def stop_orders_afterwards(sandbox_bank):
    """The bank is shared by the session: no standing order of these tests runs on later."""
    yield
    from sqlalchemy import update

    from twinrail.sandbox.bank.store.tables import periodic_payments

    with sandbox_bank.service.engine.begin() as conn:
        conn.execute(
            update(periodic_payments)
            .where(periodic_payments.c.status == "ACTC")
            .values(status="CANC")
        )


@pytest.fixture
def carol(accounts_of):
    return next(a for a in accounts_of("carol") if a.cash_account_type == "CACC")


def order_body(iban, amount="25.00", **schedule):
    body = {
        "endToEndIdentification": f"SPO-{uuid.uuid4().hex[:12]}",
        "debtorAccount": {"iban": iban},
        "instructedAmount": {"currency": "EUR", "amount": amount},
        "creditorAccount": {"iban": CREDITOR_IBAN},
        "creditorName": "Landlord GmbH",
        "remittanceInformationUnstructured": "Rent",
    }
    body.update(schedule)
    return body


def initiate_order(client, body):
    return client.post(BASE, json=body, headers=headers(PSU_IP_Address=PSU_IP))


def running_order(client, body, psu_id="carol"):
    created = initiate_order(client, body)
    assert created.status_code == 201, created.text
    payment_id = created.json()["paymentId"]
    single = client.get(f"/v1/payments/{SCT}/{payment_id}", headers=headers())
    assert single.status_code == 404  # a standing order is not a /v1/payments resource
    url = f"{BASE}/{payment_id}/authorisations"
    started = client.post(url, headers=headers(PSU_ID=psu_id))
    assert started.status_code == 201, started.text
    link = started.json()["_links"]["updatePsuAuthentication"]["href"]
    client.put(link, json={"psuData": {"password": f"{psu_id}-sandbox"}}, headers=headers())
    final = client.put(link, json={"scaAuthenticationData": "111111"}, headers=headers())
    assert final.json()["scaStatus"] == "finalised", final.text
    return payment_id


def status(client, payment_id):
    response = client.get(f"{BASE}/{payment_id}/status", headers=headers())
    assert response.status_code == 200, response.text
    return response.json()["transactionStatus"]


def debits(sandbox_bank, account, reference):
    found = entries(sandbox_bank, account.resource_id).values()
    return sorted(
        (t for t in found if t.entry_reference == reference), key=lambda t: t.booking_date
    )


def test_a_standing_order_executes_on_its_schedule_in_sandbox_time(
    pis_client, carol, sandbox_bank, bank_clock
):
    today = bank_clock().date()
    body = order_body(carol.iban, frequency="Weekly", startDate=today.isoformat())
    payment_id = running_order(pis_client, body)
    assert status(pis_client, payment_id) == "ACTC"
    reference = body["endToEndIdentification"]

    bank_clock.advance(days=30)
    assert status(pis_client, payment_id) == "ACTC"
    booked = debits(sandbox_bank, carol, reference)
    schedule = parse_schedule(body, today)
    expected = list(execution_dates(schedule, bank_clock().date()))
    assert [t.booking_date for t in booked] == expected and len(expected) >= 4
    assert {t.amount for t in booked} == {-2500}
    assert all(t.status.value == "booked" for t in booked)

    order = pis_client.get(f"{BASE}/{payment_id}", headers=headers()).json()
    assert order["frequency"] == "Weekly" and order["startDate"] == today.isoformat()


def test_the_executions_appear_in_the_account_report(pis_client, ais_client, carol, bank_clock):
    today = bank_clock().date()
    body = order_body(carol.iban, "7.00", frequency="Daily", startDate=today.isoformat())
    running_order(pis_client, body)
    consent_id = create_consent(ais_client, consent_body([carol.iban]), psu_id="carol")
    assert (
        authorise_consent(ais_client, consent_id, "carol", "carol-sandbox", "111111") == "finalised"
    )
    bank_clock.advance(days=7)
    report = ais_client.get(
        f"/v1/accounts/{carol.resource_id}/transactions?bookingStatus=booked&itemsPerPage=500",
        headers=ais_headers(consent_id),
    ).json()["transactions"]["booked"]
    ours = [t for t in report if t["entryReference"] == body["endToEndIdentification"]]
    working_days = list(execution_dates(parse_schedule(body, today), bank_clock().date()))
    assert len(ours) == len(working_days) >= 5  # 8 calendar days, working days only
    assert {t["transactionAmount"]["amount"] for t in ours} == {"-7.00"}


def test_an_order_with_an_end_date_completes_after_its_last_execution(
    pis_client, carol, sandbox_bank, bank_clock
):
    today = bank_clock().date()
    end = today + dt.timedelta(days=60)
    body = order_body(
        carol.iban, frequency="Monthly", startDate=today.isoformat(), endDate=end.isoformat()
    )
    payment_id = running_order(pis_client, body)
    bank_clock.advance(days=70)
    assert status(pis_client, payment_id) == "ACSC"
    expected = list(execution_dates(parse_schedule(body, today), end + dt.timedelta(days=7)))
    booked = debits(sandbox_bank, carol, body["endToEndIdentification"])
    assert [t.booking_date for t in booked] == expected and len(expected) in (2, 3)


def test_an_execution_without_funds_is_skipped_and_the_order_runs_on(
    pis_client, carol, sandbox_bank, bank_clock
):
    today = bank_clock().date()
    body = order_body(carol.iban, "999999.00", frequency="Weekly", startDate=today.isoformat())
    payment_id = running_order(pis_client, body)
    bank_clock.advance(days=15)
    assert status(pis_client, payment_id) == "ACTC"
    assert debits(sandbox_bank, carol, body["endToEndIdentification"]) == []


def test_an_unauthorised_order_is_cancelled_at_once(pis_client, carol, bank_clock):
    body = order_body(carol.iban, frequency="Monthly", startDate=bank_clock().date().isoformat())
    payment_id = initiate_order(pis_client, body).json()["paymentId"]
    deleted = pis_client.delete(f"{BASE}/{payment_id}", headers=headers())
    assert deleted.status_code == 204
    assert status(pis_client, payment_id) == "CANC"


def test_a_running_order_is_stopped_by_the_psus_cancellation_sca(
    pis_client, carol, sandbox_bank, bank_clock
):
    today = bank_clock().date()
    body = order_body(carol.iban, frequency="Weekly", startDate=today.isoformat())
    payment_id = running_order(pis_client, body)
    bank_clock.advance(days=8)
    deleted = pis_client.delete(f"{BASE}/{payment_id}", headers=headers())
    assert deleted.status_code == 202, deleted.text
    link = deleted.json()["_links"]["startAuthorisationWithPsuAuthentication"]["href"]
    assert link.endswith("/cancellation-authorisations")
    started = pis_client.post(link, headers=headers(PSU_ID="carol"))
    update = started.json()["_links"]["updatePsuAuthentication"]["href"]
    assert "/cancellation-authorisations/" in update
    pis_client.put(update, json={"psuData": {"password": "carol-sandbox"}}, headers=headers())
    done = pis_client.put(update, json={"scaAuthenticationData": "111111"}, headers=headers())
    assert done.json()["scaStatus"] == "finalised", done.text
    assert status(pis_client, payment_id) == "CANC"
    executed = len(debits(sandbox_bank, carol, body["endToEndIdentification"]))
    bank_clock.advance(days=30)
    status(pis_client, payment_id)
    assert len(debits(sandbox_bank, carol, body["endToEndIdentification"])) == executed


def test_a_wrong_otp_three_times_rejects_the_order(pis_client, carol, bank_clock):
    body = order_body(carol.iban, frequency="Monthly", startDate=bank_clock().date().isoformat())
    payment_id = initiate_order(pis_client, body).json()["paymentId"]
    started = pis_client.post(
        f"{BASE}/{payment_id}/authorisations", headers=headers(PSU_ID="carol")
    )
    link = started.json()["_links"]["updatePsuAuthentication"]["href"]
    pis_client.put(link, json={"psuData": {"password": "carol-sandbox"}}, headers=headers())
    for _ in range(3):
        wrong = pis_client.put(link, json={"scaAuthenticationData": "000000"}, headers=headers())
        assert codes(wrong) == ["PSU_CREDENTIALS_INVALID"]
    assert status(pis_client, payment_id) == "RJCT"


@pytest.mark.parametrize(
    ("schedule", "status_code", "code"),
    [
        ({"frequency": "MonthlyVariable"}, 400, "PARAMETER_NOT_SUPPORTED"),
        ({"frequency": "Monthly", "startDate": "2000-01-01"}, 400, "FORMAT_ERROR"),
        ({"frequency": "Monthly", "dayOfExecution": "32"}, 400, "FORMAT_ERROR"),
        ({"frequency": None}, 400, "FORMAT_ERROR"),
    ],
)
def test_a_bad_schedule_is_refused_and_nothing_is_stored(
    pis_client, carol, sandbox_bank, bank_clock, schedule, status_code, code
):
    from sqlalchemy import func, select

    from twinrail.sandbox.bank.store.tables import periodic_payments

    body = order_body(carol.iban, startDate=bank_clock().date().isoformat())
    body.update({k: v for k, v in schedule.items() if v is not None})
    if schedule.get("frequency", "") is None:
        body.pop("frequency", None)

    def count():
        with sandbox_bank.service.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(periodic_payments)).scalar()

    before = count()
    response = initiate_order(pis_client, body)
    assert (response.status_code, codes(response)) == (status_code, [code])
    assert count() == before


def test_an_unknown_product_and_an_unknown_order_are_refused(pis_client, carol, bank_clock):
    body = order_body(carol.iban, frequency="Monthly", startDate=bank_clock().date().isoformat())
    response = pis_client.post(
        "/v1/periodic-payments/cross-border-credit-transfers", json=body,
        headers=headers(PSU_IP_Address=PSU_IP),
    )  # fmt: skip
    assert (response.status_code, codes(response)) == (404, ["PRODUCT_UNKNOWN"])
    unknown = pis_client.get(f"{BASE}/spo-unknown", headers=headers())
    assert (unknown.status_code, codes(unknown)) == (404, ["RESOURCE_UNKNOWN"])
