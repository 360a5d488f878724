"""The one-statement read a decision makes: its limit windows must equal the movements' sums."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.domain.kyc import KycProfile, KycStatus, Tier
from twinrail.compliance.domain.limits import DAY, THIRTY_DAYS, window_total
from twinrail.compliance.domain.rules import Direction
from twinrail.compliance.store.decision_writes import load_decision_context
from twinrail.compliance.store.kyc_store import KycStore
from twinrail.compliance.store.rules_store import FactRecord, RulesStore
from twinrail.platform.uow import UnitOfWork

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

# Ages around the window edges matter most: exactly one day and thirty days old are outside;
# a negative age is a movement stamped a moment after the decision's clock was read.
edges = st.sampled_from([DAY, THIRTY_DAYS, dt.timedelta(0)]).flatmap(
    lambda edge: st.integers(-2, 2).map(lambda s: edge + dt.timedelta(seconds=s))
)
ages = st.one_of(edges, st.timedeltas(dt.timedelta(0), dt.timedelta(days=40)))
movements = st.lists(st.tuples(ages, st.integers(1, 10**12)), max_size=12)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(past=movements)
def test_the_compressed_windows_sum_exactly_what_the_movements_would(
    engine: Engine, past: list[tuple[dt.timedelta, int]]
) -> None:
    customer = f"cus_{uuid.uuid4().hex}"
    with UnitOfWork(engine) as uow:
        store = KycStore(uow.connection)
        for n, (age, cents) in enumerate(past):
            store.record_movement(f"po_{customer}_{n}", customer, "EUR", cents, cents, NOW - age)
        store.record_movement(f"{customer}_self", customer, "EUR", 999, 999, NOW)  # a retry
        uow.commit()
    with engine.connect() as conn:
        context = load_decision_context(conn, customer, f"{customer}_self", NOW, NOW)
    raw = [(NOW - age, cents) for age, cents in past]
    for window in (DAY, THIRTY_DAYS):
        # a movement stamped after our clock was read (another process's clock) still counts
        expected = sum(cents for at, cents in raw if NOW - window < at)
        assert window_total(context.window_usage, NOW, window) == expected
    assert context.profile is None
    assert context.existing.movement and not context.existing.fact


def test_the_context_reads_the_profile_points_and_existing_rows(engine: Engine) -> None:
    customer = f"cus_{uuid.uuid4().hex}"
    with UnitOfWork(engine) as uow:
        KycStore(uow.connection).save_profile(
            KycProfile(customer, KycStatus.VERIFIED, Tier.IDENTITY, NOW, 1)
        )
        rules = RulesStore(uow.connection)
        for order, points, age in (("a", 5, 1), ("b", 7, 100), ("c", 11, 2)):
            rules.record_fact(
                FactRecord(f"{customer}_{order}", customer, Direction.OUT, "bank_payment",
                           Outcome.REVIEW, 100, None, points, NOW - dt.timedelta(days=age))
            )  # fmt: skip
        KycStore(uow.connection).record_movement(f"{customer}_c", customer, "EUR", 100, 100, NOW)
        uow.commit()
    with engine.connect() as conn:
        since = NOW - dt.timedelta(days=90)
        again = load_decision_context(conn, customer, f"{customer}_c", NOW, since)
        fresh = load_decision_context(conn, customer, f"{customer}_new", NOW, since)
    assert again.profile == KycProfile(customer, KycStatus.VERIFIED, Tier.IDENTITY, NOW, 1)
    assert again.rule_points == 5  # c is the order itself; b is older than 90 days
    assert fresh.rule_points == 16
    assert again.existing.movement and again.existing.fact
    assert not fresh.existing.movement and not fresh.existing.fact
    assert window_total(again.window_usage, NOW, DAY) == 0  # never counts itself
    assert window_total(fresh.window_usage, NOW, DAY) == 100
    assert not fresh.party_hits
