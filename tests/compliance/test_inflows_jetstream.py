"""The deposit-inflow consumer on NATS JetStream: its `crypto.*` subscription receives a
deposit's credit and reversal in stream order, skips other crypto events, records once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from tests.compliance.test_inflows import (
    Owners,
    credited,
    deposit,
    fact,
    prices,
    ref,
    reversed_,
)
from tests.platform.conftest import jetstream, nats_url, wait_until  # noqa: F401 - fixtures
from twinrail.audit.store.tables import audit_entries
from twinrail.compliance.service.inflows import DepositInflows
from twinrail.platform.bus import JetStreamBus
from twinrail.platform.outbox import OutboxMessage


@pytest.mark.nats
def test_credit_then_reversal_over_jetstream_end_in_a_reversed_inflow(
    engine: Engine,
    jetstream: JetStreamBus,  # noqa: F811 - the fixture
) -> None:
    at = dt.datetime(2026, 2, 1, 9, 0, tzinfo=dt.UTC)
    inflows = DepositInflows(engine, Owners(la_alice="cus_alice"), prices())
    kept, gone = deposit(), deposit()
    other = OutboxMessage("0" * 8 + "-0000-4000-8000-" + "0" * 12, "crypto.charge_paid",
                          "s", 1, {}, at)  # fmt: skip
    first = credited(kept, at)
    jetstream.publish([first, credited(gone, at), other, reversed_(gone, at), first])
    subscription = inflows.subscribe(jetstream)
    try:
        wait_until(lambda: (f := fact(engine, ref(gone))) is not None and f.eur_cents == 0)
    finally:
        subscription.close()
    recorded = fact(engine, ref(kept))
    assert recorded is not None and (recorded.order_type, recorded.eur_cents) == (
        "inflow",
        4_600_00,
    )
    with engine.connect() as conn:
        inflow_audits = conn.execute(
            select(func.count()).where(audit_entries.c.action == "compliance.inflow")
        ).scalar_one()
    assert inflow_audits == 2  # each deposit once, the republished event not again
