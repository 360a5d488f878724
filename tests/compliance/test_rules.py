"""Every rule kind fires on the movement it describes and stays silent on its near miss (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from twinrail.compliance.domain.decision import Counterparty, Outcome
from twinrail.compliance.domain.rules import (
    AmountThreshold,
    CustomerHistory,
    Direction,
    DormantReactivation,
    HighRiskJurisdiction,
    MovementFacts,
    NewBeneficiary,
    PastMovement,
    RapidInOut,
    RiskyWallet,
    Rule,
    RuleParams,
    RuleSet,
    Severity,
    Structuring,
    Velocity,
    WalletTag,
    beneficiary_key,
)
from twinrail.compliance.domain.rules_evaluation import evaluate_rules
from twinrail.compliance.rules import default_rule_set

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
MIXER = "0x12D66f87A04A9E220743712cE6d9bB1B5616B8Fc"


def rule_set(params: RuleParams, *, applies_to: frozenset[str] = frozenset()) -> RuleSet:
    rule = Rule("r.test", "a test rule", Severity.HIGH, Outcome.REVIEW, params, applies_to)
    tags = {MIXER.lower(): WalletTag(MIXER.lower(), frozenset({"mixer"}), "a mixer")}
    return RuleSet("test-1", (rule,), tags)


def facts(
    eur: int | None = 100_00,
    order_type: str = "bank_payment",
    counterparty: Counterparty | None = None,
    customer_country: str | None = None,
) -> MovementFacts:
    return MovementFacts("po_1", "cus_1", order_type, eur, NOW, counterparty, customer_country)


def out(age: dt.timedelta, eur: int, outcome: Outcome = Outcome.ALLOW) -> PastMovement:
    return PastMovement(NOW - age, eur, Direction.OUT, "bank_payment", outcome)


def inflow(age: dt.timedelta, eur: int) -> PastMovement:
    return PastMovement(NOW - age, eur, Direction.IN, "inflow")


def fired(
    params: RuleParams, movement: MovementFacts, history: CustomerHistory | None = None
) -> dict[str, str | int] | None:
    hits = evaluate_rules(rule_set(params), movement, history or CustomerHistory())
    return dict(hits[0].facts) if hits else None


def test_an_amount_threshold_fires_at_the_threshold_and_not_a_cent_below() -> None:
    rule = AmountThreshold(10_000_00)
    assert fired(rule, facts(10_000_00)) == {"eur": "10000.00", "threshold_eur": "10000.00"}
    assert fired(rule, facts(9_999_99)) is None
    assert fired(rule, facts(None)) is None  # no EUR value: price.unknown_asset reviews instead


def test_velocity_fires_on_the_count_over_the_limit_including_this_movement() -> None:
    rule = Velocity(HOUR, max_count=3)
    three = CustomerHistory((out(HOUR / 2, 1), out(HOUR / 3, 1), out(HOUR / 4, 1)))
    two = CustomerHistory((out(HOUR / 2, 1), out(HOUR / 3, 1)))
    assert fired(rule, facts(), three) == {"window": "1:00:00", "count": 4, "eur": "100.03",
                                           "max_count": 3}  # fmt: skip
    assert fired(rule, facts(), two) is None


def test_velocity_fires_on_the_sum_and_ignores_blocked_and_old_movements() -> None:
    rule = Velocity(dt.timedelta(days=1), max_eur=1_000_00)
    history = CustomerHistory(
        (out(HOUR, 900_00), out(HOUR, 5_000_00, Outcome.BLOCK), out(dt.timedelta(days=1), 500_00))
    )
    assert fired(rule, facts(100_01), history) is not None
    assert fired(rule, facts(100_00), history) is None


def test_velocity_only_counts_money_going_out() -> None:
    rule = Velocity(HOUR, max_count=1)
    history = CustomerHistory((inflow(HOUR / 2, 1), inflow(HOUR / 3, 1)))
    assert fired(rule, facts(), history) is None


def test_structuring_fires_on_several_amounts_just_under_the_threshold() -> None:
    rule = Structuring(10_000_00, 1_000_00, dt.timedelta(days=7), 3)
    history = CustomerHistory((out(dt.timedelta(days=2), 9_500_00), out(HOUR, 9_000_00)))
    found = fired(rule, facts(9_999_99), history)
    assert found is not None and found["count"] == 3


def test_structuring_ignores_amounts_outside_the_band_or_too_few() -> None:
    rule = Structuring(10_000_00, 1_000_00, dt.timedelta(days=7), 3)
    history = CustomerHistory((out(HOUR, 8_999_99), out(HOUR, 10_000_00), out(HOUR, 9_500_00)))
    assert fired(rule, facts(9_999_99), history) is None  # only two in the band
    full = CustomerHistory((out(HOUR, 9_500_00), out(HOUR, 9_500_00)))
    assert fired(rule, facts(10_000_00), full) is None  # this one is not under the threshold


@pytest.mark.parametrize(
    ("counterparty", "customer_country", "key"),
    [
        (Counterparty(iban="IR710570029971601460641001"), None, "iban_country"),
        (Counterparty(bic="BKIDIRTHXXX"), None, "bic_country"),
        (Counterparty(name="x", country="IR"), None, "counterparty_country"),
        (None, "IR", "customer_country"),
    ],
)
def test_a_high_risk_jurisdiction_fires_by_iban_bic_counterparty_or_customer_country(
    counterparty: Counterparty | None, customer_country: str | None, key: str
) -> None:
    rule = HighRiskJurisdiction(
        frozenset({"IR", "KP"}), frozenset({"iban", "bic", "counterparty", "customer"}), "fatf"
    )
    found = fired(rule, facts(counterparty=counterparty, customer_country=customer_country))
    assert found == {key: "IR", "list": "fatf"}


def test_a_high_risk_jurisdiction_is_silent_for_other_countries_and_unwatched_sources() -> None:
    rule = HighRiskJurisdiction(frozenset({"IR"}), frozenset({"iban"}))
    german = Counterparty(iban="DE89370400440532013000", country="IR")
    assert fired(rule, facts(counterparty=german, customer_country="IR")) is None


def test_rapid_in_and_out_fires_when_most_of_a_recent_inflow_leaves() -> None:
    rule = RapidInOut(dt.timedelta(hours=48), 1_000_00, 80)
    history = CustomerHistory((inflow(dt.timedelta(hours=3), 5_000_00),))
    assert fired(rule, facts(4_000_00), history) == {
        "inflow_eur": "5000.00", "out_eur": "4000.00", "window": "2 days, 0:00:00",
        "min_share_percent": 80,
    }  # fmt: skip
    assert fired(rule, facts(3_999_99), history) is None


def test_rapid_in_and_out_is_silent_for_old_or_small_inflows_and_for_inflow_orders() -> None:
    rule = RapidInOut(dt.timedelta(hours=48), 1_000_00, 80)
    old = CustomerHistory((inflow(dt.timedelta(hours=48), 5_000_00),))
    small = CustomerHistory((inflow(HOUR, 999_99),))
    recent = CustomerHistory((inflow(HOUR, 5_000_00),))
    assert fired(rule, facts(5_000_00), old) is None
    assert fired(rule, facts(999_99), small) is None
    assert fired(rule, facts(5_000_00, order_type="on_ramp"), recent) is None


def test_a_first_payment_to_a_new_beneficiary_fires_above_the_amount() -> None:
    rule = NewBeneficiary(5_000_00)
    payee = Counterparty(iban="DE89 3704 0044 0532 0130 00")
    found = fired(rule, facts(5_000_00, counterparty=payee))
    assert found == {"beneficiary": "iban:DE89…3000", "eur": "5000.00"}  # masked
    assert fired(rule, facts(4_999_99, counterparty=payee)) is None
    known = CustomerHistory(known_beneficiary=True)
    assert fired(rule, facts(5_000_00, counterparty=payee), known) is None
    assert fired(rule, facts(5_000_00, counterparty=Counterparty(name="no account"))) is None


def test_dormant_reactivation_fires_after_the_silence_and_not_for_new_customers() -> None:
    rule = DormantReactivation(dt.timedelta(days=180), 1_000_00)
    silent = CustomerHistory(last_activity_at=NOW - dt.timedelta(days=180))
    active = CustomerHistory(last_activity_at=NOW - dt.timedelta(days=179, hours=23))
    assert fired(rule, facts(1_000_00), silent) == {"silent_days": 180, "eur": "1000.00"}
    assert fired(rule, facts(1_000_00), active) is None
    assert fired(rule, facts(999_99), silent) is None
    assert fired(rule, facts(1_000_00), CustomerHistory()) is None


def test_a_wallet_tagged_as_a_mixer_fires_in_any_letter_case() -> None:
    rule = RiskyWallet(frozenset({"mixer", "sanctioned_service"}))
    lower = Counterparty(wallet=MIXER.lower())
    assert fired(rule, facts(1, "crypto_withdrawal", lower)) == {
        "wallet": MIXER.lower(), "tags": "mixer", "label": "a mixer"
    }  # fmt: skip
    clean = Counterparty(wallet="0x" + "ab" * 20)
    assert fired(rule, facts(1, "crypto_withdrawal", clean)) is None
    assert fired(RiskyWallet(frozenset({"gambling"})), facts(1, "x", lower)) is None


def test_a_rule_only_applies_to_the_order_types_it_names() -> None:
    rules = rule_set(AmountThreshold(1), applies_to=frozenset({"bank_payment"}))
    assert evaluate_rules(rules, facts(order_type="bank_payment"), CustomerHistory())
    assert not evaluate_rules(rules, facts(order_type="internal_transfer"), CustomerHistory())


def test_the_beneficiary_key_is_the_compact_iban_or_the_lower_case_evm_wallet() -> None:
    assert beneficiary_key(Counterparty(iban="de89 3704")) == "iban:DE893704"
    assert beneficiary_key(Counterparty(wallet=MIXER)) == f"wallet:{MIXER.lower()}"
    assert beneficiary_key(Counterparty(wallet="bc1qxyz")) == "wallet:bc1qxyz"
    assert beneficiary_key(None) is None


def test_the_default_rule_set_covers_every_rule_kind() -> None:
    rules = default_rule_set()
    kinds = {type(r.params) for r in rules.rules}
    assert kinds == {AmountThreshold, Velocity, Structuring, HighRiskJurisdiction, RapidInOut,
                     NewBeneficiary, DormantReactivation, RiskyWallet}  # fmt: skip
    assert rules.version and len({r.id for r in rules.rules}) == len(rules.rules)
    assert rules.longest_window() == dt.timedelta(days=7)


def test_the_default_rule_set_blocks_a_withdrawal_to_a_tornado_cash_pool() -> None:
    withdrawal = facts(10_00, "crypto_withdrawal", Counterparty(wallet=MIXER.lower()))
    hits = evaluate_rules(default_rule_set(), withdrawal, CustomerHistory())
    assert [(h.rule_id, h.outcome) for h in hits] == [("wallet.tagged_risky", Outcome.BLOCK)]
