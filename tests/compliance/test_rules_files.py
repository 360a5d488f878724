"""Rule sets as YAML: the shipped one loads; a malformed file fails with every problem named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.domain.errors import InvalidRuleSet
from twinrail.compliance.domain.kyc import Tier
from twinrail.compliance.domain.rules import Severity, Structuring, Velocity
from twinrail.compliance.domain.rules_schema import parse_rule_set
from twinrail.compliance.rules import read_rule_set

VALID = """
version: "t-1"
lists: {watch: [Iran, KP]}
wallet_tags:
  - {address: "0xAbC0000000000000000000000000000000000001", tags: [mixer]}
risk: {review_at: 50, block_at: 80, tier_points: {0: 7}, high_risk_list: watch}
rules:
  - id: v.count
    kind: velocity
    description: many
    severity: low
    outcome: review
    applies_to: [bank_payment]
    params: {window: 90m, max_count: 2}
  - id: s.under
    kind: structuring
    description: just under
    severity: high
    outcome: block
    params: {threshold_eur: "1000.50", margin_eur: 100, window: 2d, min_count: 2}
  - id: j.watch
    kind: high_risk_jurisdiction
    description: listed
    severity: critical
    outcome: block
    params: {list: watch, sources: [iban]}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidRuleSet) as caught:
        parse_rule_set(text, source="test.yaml")
    assert caught.value.code == "compliance.rules.invalid"
    return list(caught.value.context["problems"])


def test_a_valid_rule_file_becomes_typed_rules_with_cents_durations_and_country_codes() -> None:
    rules = parse_rule_set(VALID)
    velocity, structuring, jurisdiction = rules.rules
    assert rules.version == "t-1" and velocity.applies_to == {"bank_payment"}
    assert velocity.params == Velocity(dt.timedelta(minutes=90), max_count=2)
    assert structuring.params == Structuring(1000_50, 100_00, dt.timedelta(days=2), 2)
    assert (structuring.severity, structuring.outcome) == (Severity.HIGH, Outcome.BLOCK)
    assert rules.lists["watch"] == {"IR", "KP"}
    assert set(rules.wallet_tags) == {"0xabc0000000000000000000000000000000000001"}
    assert rules.risk is not None and (rules.risk.review_at, rules.risk.block_at) == (50, 80)
    assert rules.risk.tier_points[Tier.BASIC] == 7


def test_a_file_that_is_not_yaml_names_the_line() -> None:
    found = problems("version: x\nrules: [\n  - {id: a")
    assert found[0].startswith("line ")


def test_a_top_level_list_is_refused() -> None:
    assert problems("- a\n- b\n") == ["top level: not a mapping"]


def test_unknown_kinds_missing_fields_and_extra_keys_are_all_reported_with_their_place() -> None:
    text = """
version: v
rules:
  - {id: a, kind: teleport, description: d, severity: low, outcome: review}
  - {id: b, kind: velocity, severity: urgent, outcome: maybe, description: d}
  - {id: c, kind: velocity, description: d, severity: low, outcome: review, colour: red}
"""
    found = "\n".join(problems(text))
    assert "rules[0].kind" in found and "unknown rule kind" in found
    assert "rules[1].severity" in found and "rules[1].outcome" in found
    assert "rules[2].colour" in found


def test_bad_parameters_duplicate_ids_and_unknown_lists_are_reported() -> None:
    text = """
version: v
rules:
  - {id: a, kind: velocity, description: d, severity: low, outcome: review,
     params: {window: soon, max_count: 1}}
  - {id: a, kind: amount_threshold, description: d, severity: low, outcome: review,
     params: {at_or_above_eur: -5}}
  - {id: c, kind: high_risk_jurisdiction, description: d, severity: low, outcome: review,
     params: {list: nowhere}}
  - {id: d, kind: velocity, description: d, severity: low, outcome: review, params: {window: 1h}}
  - {id: e, kind: high_risk_jurisdiction, description: d, severity: low, outcome: review,
     params: {countries: [Atlantis]}}
"""
    found = problems(text)
    assert any(p.startswith("rules[0] (a).params.window") for p in found)
    assert any("rules[1] (a): duplicate rule id" == p for p in found)
    assert any(p.startswith("rules[1] (a).params.at_or_above_eur") for p in found)
    assert any("unknown list 'nowhere'" in p for p in found)
    assert any("velocity needs max_count or max_eur" in p for p in found)
    assert any("unknown country 'Atlantis'" in p for p in found)


def test_a_rule_set_needs_a_version_and_at_least_one_rule() -> None:
    found = problems("description: nothing\n")
    assert any(p.startswith("version") for p in found) and any(p.startswith("rules") for p in found)
    assert any(p.startswith("rules") for p in problems("version: v\nrules: []\n"))


def test_risk_thresholds_must_be_ordered() -> None:
    text = VALID.replace("block_at: 80", "block_at: 40")
    assert any("block_at must be at least review_at" in p for p in problems(text))


def test_reading_a_file_reports_a_missing_path_as_an_invalid_rule_set(tmp_path: Path) -> None:
    with pytest.raises(InvalidRuleSet) as caught:
        read_rule_set(tmp_path / "missing.yaml")
    assert caught.value.context["problems"] == ["FileNotFoundError"]
    path = tmp_path / "rules.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert read_rule_set(path).version == "t-1"
