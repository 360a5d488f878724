"""Shadow mode: a candidate rule set decides beside the live one, is stored, never acts, and can
be compared (service and CLI)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.conftest import ManualClock
from twinrail.cli.compliance_cli import app
from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.domain.errors import InvalidRuleSet
from twinrail.compliance.domain.rules_schema import parse_rule_set
from twinrail.compliance.rules import default_rule_set
from twinrail.compliance.service.decision_service import DecideMovement, DecisionService
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.platform.db import create_db_engine
from twinrail.platform.migrate import upgrade
from twinrail.settings import get_settings

CANDIDATE = """
version: "candidate-2"
rules:
  - id: amount.over_50
    kind: amount_threshold
    description: a much lower review threshold
    severity: low
    outcome: review
    params: {at_or_above_eur: 50}
"""
runner = CliRunner()


def decisions_with_shadow(
    engine: Engine, screening: ScreeningService, clock: ManualClock
) -> DecisionService:
    settings = ComplianceSettings()
    prices = FixedPriceTable(settings.prices_eur, settings.asset_decimals)
    return DecisionService(
        engine, screening, prices, clock=clock, shadow_rules=parse_rule_set(CANDIDATE)
    )


def pay(eur_cents: int, customer: str = "cus_shadow") -> DecideMovement:
    return DecideMovement(f"po_{uuid.uuid4().hex}", customer, "bank_payment", "EUR", eur_cents)


def test_the_shadow_set_records_its_decision_without_changing_the_live_one(
    engine: Engine, service: ScreeningService, clock: ManualClock
) -> None:
    decisions = decisions_with_shadow(engine, service, clock)
    recorded = decisions.decide(pay(60_00))
    assert recorded.decision.outcome is Outcome.ALLOW  # live: the default set allows EUR 60
    assert recorded.shadow is not None and recorded.shadow.decision.outcome is Outcome.REVIEW
    live, shadow = decisions.evaluations(recorded.decision_id)
    assert (live.mode, live.rule_set_version, live.outcome) == (
        "live", default_rule_set().version, "allow"
    )  # fmt: skip
    assert (shadow.mode, shadow.rule_set_version) == ("shadow", "candidate-2")
    assert (shadow.outcome, shadow.live_outcome, shadow.fired) == (
        "review", "allow", ("amount.over_50",)
    )  # fmt: skip
    stored = decisions.decision(recorded.decision_id)
    assert stored is not None and stored.outcome == "allow"
    assert stored.inputs["shadow_rule_set_version"] == "candidate-2"


def test_the_shadow_report_counts_the_decisions_that_would_differ(
    engine: Engine, service: ScreeningService, clock: ManualClock
) -> None:
    decisions = decisions_with_shadow(engine, service, clock)
    for cents in (10_00, 20_00, 60_00, 70_00, 80_00):
        decisions.decide(pay(cents, f"cus_{uuid.uuid4().hex[:8]}"))
    [report] = decisions.shadow_report()
    assert report.to_dict() == {
        "rule_set_version": "candidate-2", "total": 5, "differing": 3, "same": 2,
        "transitions": {"allow->allow": 2, "allow->review": 3},
    }  # fmt: skip
    assert decisions.shadow_report("another") == []
    differing = decisions.shadow_differences("candidate-2", limit=2)
    assert len(differing) == 2 and all(e.outcome == "review" for e in differing)


def test_without_a_shadow_set_nothing_is_recorded_in_shadow(
    engine: Engine, service: ScreeningService, clock: ManualClock
) -> None:
    settings = ComplianceSettings()
    prices = FixedPriceTable(settings.prices_eur, settings.asset_decimals)
    decisions = DecisionService(engine, service, prices, clock=clock)
    recorded = decisions.decide(pay(60_00))
    assert recorded.shadow is None
    assert [e.mode for e in decisions.evaluations(recorded.decision_id)] == ["live"]
    assert decisions.shadow_report() == []


# --- CLI ----------------------------------------------------------------------------------


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("TWINRAIL_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_the_cli_reports_shadow_differences(cli_database: str, clock: ManualClock) -> None:
    engine = create_db_engine(cli_database)
    upgrade(engine)
    decisions = decisions_with_shadow(engine, ScreeningService(engine, clock=clock), clock)
    decisions.decide(pay(60_00))
    decisions.decide(pay(10_00, "cus_other"))
    engine.dispose()
    result = runner.invoke(app, ["rules", "shadow-report", "--differences", "5", "--json"])
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.stdout)
    assert (report["total"], report["differing"]) == (2, 1)
    assert report["differences"][0]["fired"] == ["amount.over_50"]
    human = runner.invoke(app, ["rules", "shadow-report"])
    assert "1 of 2 decisions would differ" in human.stdout


def test_the_cli_shows_the_live_rule_set_and_checks_a_candidate_file(
    cli_database: str,  # noqa: ARG001
    tmp_path: Path,
) -> None:
    shown = runner.invoke(app, ["rules", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["version"] == default_rule_set().version
    assert "wallet.tagged_risky" in {r["id"] for r in data["rules"]}
    good = tmp_path / "candidate.yaml"
    good.write_text(CANDIDATE, encoding="utf-8")
    checked = runner.invoke(app, ["rules", "check", str(good)])
    assert checked.exit_code == 0 and "candidate-2" in checked.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(CANDIDATE.replace("amount_threshold", "teleport"), encoding="utf-8")
    refused = runner.invoke(app, ["rules", "check", str(bad)])
    assert refused.exit_code == 1
    assert "compliance.rules.invalid" in refused.output and "rules[0].kind" in refused.output


def test_the_settings_choose_the_live_and_shadow_rule_files(
    engine: Engine, service: ScreeningService, clock: ManualClock, tmp_path: Path
) -> None:
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(CANDIDATE, encoding="utf-8")
    settings = ComplianceSettings(shadow_rule_set_path=str(candidate))
    prices = FixedPriceTable(settings.prices_eur, settings.asset_decimals)
    decisions = DecisionService(engine, service, prices, settings=settings, clock=clock)
    assert decisions.rules.version == default_rule_set().version
    assert decisions.shadow_rules is not None and decisions.shadow_rules.version == "candidate-2"
    live_file = ComplianceSettings(rule_set_path=str(candidate))
    assert DecisionService(engine, service, prices, settings=live_file).rules.version == (
        "candidate-2"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: [", encoding="utf-8")
    with pytest.raises(InvalidRuleSet):
        DecisionService(engine, service, prices, settings=ComplianceSettings(
            shadow_rule_set_path=str(broken)))  # fmt: skip
