"""Tier limits over rolling windows, EUR valuation, and the pure decision (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from twinrail.compliance.domain.decision import DecisionInputs, Outcome, decide_movement
from twinrail.compliance.domain.kyc import (
    KycProfile,
    KycStatus,
    LimitSchedule,
    Tier,
    TierLimits,
    effective_tier,
)
from twinrail.compliance.domain.limits import DAY, THIRTY_DAYS, Movement, check_limits
from twinrail.compliance.domain.prices import AssetPrice, eur_cents_of

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
TICK = dt.timedelta(microseconds=1)
TIER0 = TierLimits(per_transaction=150_00, per_day=250_00, per_30_days=1_000_00)
SCHEDULE = LimitSchedule(
    "limits-test",
    {
        Tier.BASIC: TIER0,
        Tier.IDENTITY: TierLimits(10_000_00, 15_000_00, 50_000_00),
        Tier.ENHANCED: TierLimits(100_000_00, 250_000_00, 1_000_000_00),
    },
)
HUGE = 10**15


def codes(eur_cents: int, history: list[Movement], limits: TierLimits = TIER0) -> set[str]:
    return {b.code for b in check_limits(eur_cents, history, NOW, limits)}


def test_the_per_transaction_limit_allows_the_limit_and_fires_one_cent_above() -> None:
    assert codes(150_00, []) == set()
    assert codes(150_01, []) == {"limits.per_transaction_exceeded"}


def test_the_daily_limit_counts_a_movement_until_it_is_exactly_24_hours_old() -> None:
    inside = [Movement(NOW - DAY + TICK, 200_00)]
    edge = [Movement(NOW - DAY, 200_00)]
    assert codes(50_00, inside) == set()
    assert codes(50_01, inside) == {"limits.daily_exceeded"}
    assert codes(150_00, edge) == set()  # exactly 24 hours old: out of the window


def test_the_30_day_limit_counts_a_movement_until_it_is_exactly_30_days_old() -> None:
    history = [Movement(NOW - THIRTY_DAYS + TICK, 900_00)]
    assert codes(100_00, history) == set()
    assert codes(100_01, history) == {"limits.rolling_30_days_exceeded"}
    assert codes(150_00, [Movement(NOW - THIRTY_DAYS, 900_00)]) == set()


def test_a_movement_in_the_future_of_the_window_end_does_not_count() -> None:
    assert codes(150_00, [Movement(NOW + TICK, 200_00)]) == set()


ages = st.lists(
    st.tuples(st.integers(min_value=0, max_value=40 * 86_400_000_000), st.integers(1, 10_000)),
    max_size=20,
)


@given(history=ages, window_limit=st.integers(min_value=0, max_value=200_000))
def test_the_daily_limit_fires_exactly_one_cent_above_what_is_left(
    history: list[tuple[int, int]], window_limit: int
) -> None:
    movements = [Movement(NOW - dt.timedelta(microseconds=age), c) for age, c in history]
    used = sum(c for age, c in history if age < DAY // TICK)
    limits = TierLimits(HUGE, window_limit, HUGE)
    left = window_limit - used
    if left >= 0:
        assert "limits.daily_exceeded" not in codes(left, movements, limits)
    assert "limits.daily_exceeded" in codes(max(left, 0) + 1, movements, limits)


@given(history=ages, window_limit=st.integers(min_value=0, max_value=200_000))
def test_the_30_day_limit_fires_exactly_one_cent_above_what_is_left(
    history: list[tuple[int, int]], window_limit: int
) -> None:
    movements = [Movement(NOW - dt.timedelta(microseconds=age), c) for age, c in history]
    used = sum(c for age, c in history if age < THIRTY_DAYS // TICK)
    limits = TierLimits(HUGE, HUGE, window_limit)
    left = window_limit - used
    if left >= 0:
        assert "limits.rolling_30_days_exceeded" not in codes(left, movements, limits)
    assert "limits.rolling_30_days_exceeded" in codes(max(left, 0) + 1, movements, limits)


@given(amount=st.integers(1, 10_000), window=st.sampled_from([DAY, THIRTY_DAYS]))
def test_a_movement_counts_one_microsecond_before_its_window_edge_and_not_at_it(
    amount: int, window: dt.timedelta
) -> None:
    # room for exactly one such movement in the window under test, none for the other
    daily = window == DAY
    limits = TierLimits(HUGE, amount if daily else HUGE, HUGE if daily else amount)
    assert codes(1, [Movement(NOW - window, amount)], limits) == set()
    assert codes(1, [Movement(NOW - window + TICK, amount)], limits)


@given(amount=st.integers(0, 10**24))
def test_eur_value_is_rounded_up_to_the_cent(amount: int) -> None:
    eth = AssetPrice("ETH", 18, Decimal(3000))
    cents = eur_cents_of(amount, eth)
    assert cents * 10**18 >= amount * 3000 * 100
    assert (cents - 1) * 10**18 < amount * 3000 * 100 or amount == 0


def test_assets_are_valued_at_their_eur_price() -> None:
    assert eur_cents_of(1_000_000, AssetPrice("USDC", 6, Decimal("0.92"))) == 92
    assert eur_cents_of(10**18, AssetPrice("ETH", 18, Decimal(3000))) == 300_000
    assert eur_cents_of(12_345, AssetPrice("EUR", 2, Decimal(1))) == 12_345


def inputs(profile: KycProfile, eur_cents: int | None, asset: str = "EUR") -> DecisionInputs:
    return DecisionInputs(
        "po_1", profile.customer_id, "bank_payment", asset, eur_cents or 0, eur_cents, NOW,
        profile, [], SCHEDULE,
    )  # fmt: skip


def test_only_a_verified_customer_gets_the_limits_of_their_tier() -> None:
    for status in KycStatus:
        profile = KycProfile("cus_1", status, Tier.ENHANCED)
        expected = Tier.ENHANCED if status is KycStatus.VERIFIED else Tier.BASIC
        assert effective_tier(profile) is expected


def test_an_unverified_customer_at_tier_2_is_held_to_tier_0_limits() -> None:
    decision = decide_movement(inputs(KycProfile("c", KycStatus.PENDING, Tier.ENHANCED), 500_00))
    assert decision.outcome is Outcome.BLOCK
    assert decision.codes == (
        "kyc.tier_capped",
        "limits.per_transaction_exceeded",
        "limits.daily_exceeded",
    )
    verified = decide_movement(inputs(KycProfile("c", KycStatus.VERIFIED, Tier.ENHANCED), 500_00))
    assert verified.outcome is Outcome.ALLOW and verified.codes == ("limits.within",)


def test_a_rejected_customer_is_blocked_whatever_the_amount() -> None:
    decision = decide_movement(inputs(KycProfile("c", KycStatus.REJECTED, Tier.BASIC), 1))
    assert decision.outcome is Outcome.BLOCK and decision.codes == ("kyc.rejected",)


def test_an_asset_without_a_price_goes_to_review() -> None:
    decision = decide_movement(
        inputs(KycProfile("c", KycStatus.VERIFIED, Tier.IDENTITY), None, "XYZ")
    )
    assert decision.outcome is Outcome.REVIEW and decision.codes == ("price.unknown_asset",)


def test_a_decision_carries_the_rule_and_limit_versions() -> None:
    decision = decide_movement(inputs(KycProfile("c", KycStatus.UNVERIFIED, Tier.BASIC), 1_00))
    assert decision.rules_version == "decision-v1"
    assert decision.limits_version == "limits-test"
