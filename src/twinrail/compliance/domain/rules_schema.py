"""The rule-set file format (YAML) and its validation into a `RuleSet`; pure (text in, value out).

    version: "2026.11-1"            # stored with every decision
    lists: {fatf_high_risk: [KP, IR, MM]}
    wallet_tags:
      - {address: "0x…", tags: [mixer], label: "a mixer"}
    risk: {review_at: 60, block_at: 90, severity_points: {high: 30}, high_risk_list: fatf_high_risk}
    rules:
      - id: amount.large
        kind: amount_threshold       # see KINDS
        description: one large movement
        severity: medium             # low, medium, high, critical
        outcome: review              # allow, review, block
        applies_to: [bank_payment]   # optional; default every order type
        params: {at_or_above_eur: 10000}

Amounts are EUR (decimals allowed), durations `<n>m`, `<n>h` or `<n>d`. Every problem in the
file is reported at once, each with where it is (`rules[2].params.window`).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from twinrail.compliance.domain.countries import country_code
from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.domain.errors import InvalidRuleSet
from twinrail.compliance.domain.kyc import KycStatus, Tier
from twinrail.compliance.domain.risk import RiskModel
from twinrail.compliance.domain.rules import (
    AmountThreshold,
    DormantReactivation,
    HighRiskJurisdiction,
    NewBeneficiary,
    RapidInOut,
    RiskyWallet,
    Rule,
    RuleParams,
    RuleSet,
    Severity,
    Structuring,
    Velocity,
    WalletTag,
)

__all__ = ["parse_rule_set", "KINDS"]

_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
Eur = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
_ID = r"^[a-z0-9][a-z0-9_.\-]{0,79}$"


def _duration(value: object) -> dt.timedelta:
    match = _DURATION.match(str(value))
    if not match or int(match.group(1)) <= 0:
        raise ValueError("a duration like 15m, 24h or 30d is required")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _check_duration(value: str) -> str:
    _duration(value)
    return value


Duration = Annotated[str, AfterValidator(_check_duration)]


def _cents(eur: Decimal) -> int:
    return int(eur * 100)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def build(self, file: RuleSetFile) -> RuleParams:
        """The domain parameters; ValueError for what spans fields or the file."""
        raise NotImplementedError


class _Amount(_Params):
    at_or_above_eur: Eur

    def build(self, _: RuleSetFile) -> RuleParams:
        return AmountThreshold(_cents(self.at_or_above_eur))


class _Velocity(_Params):
    window: Duration
    max_count: int | None = Field(default=None, ge=0)
    max_eur: Eur | None = None

    def build(self, _: RuleSetFile) -> RuleParams:
        if self.max_count is None and self.max_eur is None:
            raise ValueError("velocity needs max_count or max_eur")
        cents = None if self.max_eur is None else _cents(self.max_eur)
        return Velocity(_duration(self.window), self.max_count, cents)


class _Structuring(_Params):
    threshold_eur: Eur
    margin_eur: Eur
    window: Duration
    min_count: int = Field(ge=2)

    def build(self, _: RuleSetFile) -> RuleParams:
        if not 0 < self.margin_eur <= self.threshold_eur:
            raise ValueError("margin_eur must be above 0 and at most threshold_eur")
        return Structuring(
            _cents(self.threshold_eur), _cents(self.margin_eur), _duration(self.window),
            self.min_count,
        )  # fmt: skip


class _Jurisdiction(_Params):
    list: str | None = None
    countries: tuple[str, ...] = ()
    sources: tuple[Literal["iban", "bic", "counterparty", "customer"], ...] = (
        "iban", "bic", "counterparty", "customer",
    )  # fmt: skip

    def build(self, file: RuleSetFile) -> RuleParams:
        codes = set(_country_codes(self.countries))
        if self.list is not None:
            if self.list not in file.lists:
                raise ValueError(f"unknown list {self.list!r}")
            codes |= set(_country_codes(file.lists[self.list]))
        if not codes:
            raise ValueError("a list or countries is required")
        return HighRiskJurisdiction(frozenset(codes), frozenset(self.sources), self.list or "")


class _RapidInOut(_Params):
    window: Duration
    min_inflow_eur: Eur
    min_share_percent: int = Field(ge=1, le=100)

    def build(self, _: RuleSetFile) -> RuleParams:
        return RapidInOut(
            _duration(self.window), _cents(self.min_inflow_eur), self.min_share_percent
        )


class _NewBeneficiary(_Params):
    at_or_above_eur: Eur

    def build(self, _: RuleSetFile) -> RuleParams:
        return NewBeneficiary(_cents(self.at_or_above_eur))


class _Dormant(_Params):
    dormant_for: Duration
    at_or_above_eur: Eur = Decimal(0)

    def build(self, _: RuleSetFile) -> RuleParams:
        return DormantReactivation(_duration(self.dormant_for), _cents(self.at_or_above_eur))


class _RiskyWallet(_Params):
    tags: tuple[str, ...] = Field(min_length=1)

    def build(self, _: RuleSetFile) -> RuleParams:
        return RiskyWallet(frozenset(self.tags))


KINDS: dict[str, type[_Params]] = {
    "amount_threshold": _Amount,
    "velocity": _Velocity,
    "structuring": _Structuring,
    "high_risk_jurisdiction": _Jurisdiction,
    "rapid_in_out": _RapidInOut,
    "new_beneficiary": _NewBeneficiary,
    "dormant_reactivation": _Dormant,
    "risky_wallet": _RiskyWallet,
}


def _country_codes(values: tuple[str, ...] | list[str]) -> list[str]:
    codes = []
    for value in values:
        code = country_code(value)
        if code is None:
            raise ValueError(f"unknown country {value!r}")
        codes.append(code)
    return codes


class _RuleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    kind: str
    description: str = Field(min_length=1)
    severity: Severity
    outcome: Outcome
    applies_to: tuple[str, ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown rule kind; one of {', '.join(sorted(KINDS))}")
        return value


class _WalletTagEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str = Field(min_length=1, max_length=128)
    tags: tuple[str, ...] = Field(min_length=1)
    label: str = ""


class _RiskEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    review_at: int = Field(default=60, ge=1, le=100)
    block_at: int | None = Field(default=None, ge=1, le=100)
    severity_points: dict[Severity, int] = Field(default_factory=dict)
    status_points: dict[KycStatus, int] = Field(default_factory=dict)
    tier_points: dict[int, int] = Field(default_factory=dict)
    high_risk_country_points: int = Field(default=25, ge=0)
    high_risk_list: str = ""
    history_window: Duration = "90d"
    history_percent: int = Field(default=50, ge=0, le=100)

    def build(self, lists: dict[str, list[str]]) -> RiskModel:
        if self.high_risk_list and self.high_risk_list not in lists:
            raise ValueError(f"unknown list {self.high_risk_list!r}")
        if self.block_at is not None and self.block_at < self.review_at:
            raise ValueError("block_at must be at least review_at")
        base = RiskModel()
        return RiskModel(
            review_at=self.review_at,
            block_at=self.block_at,
            severity_points={**base.severity_points, **self.severity_points},
            status_points={**base.status_points, **self.status_points},
            tier_points={**base.tier_points, **{Tier(t): p for t, p in self.tier_points.items()}},
            high_risk_country_points=self.high_risk_country_points,
            high_risk_list=self.high_risk_list,
            history_window=_duration(self.history_window),
            history_percent=self.history_percent,
        )


class RuleSetFile(BaseModel):
    """The file as written; `to_rule_set` checks what spans entries (ids, list references)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=40)
    description: str = ""
    lists: dict[str, list[str]] = Field(default_factory=dict)
    wallet_tags: list[_WalletTagEntry] = Field(default_factory=list)
    risk: _RiskEntry = Field(default_factory=_RiskEntry)
    rules: list[_RuleEntry] = Field(min_length=1)


def _build_rules(file: RuleSetFile, problems: list[str]) -> list[Rule]:
    rules, seen = [], set()
    for i, entry in enumerate(file.rules):
        where = f"rules[{i}] ({entry.id})"
        if entry.id in seen:
            problems.append(f"{where}: duplicate rule id")
        seen.add(entry.id)
        try:
            params = KINDS[entry.kind].model_validate(entry.params).build(file)
        except ValidationError as exc:
            problems.extend(f"{where}.params{_loc(e['loc'])}: {e['msg']}" for e in exc.errors())
            continue
        except ValueError as exc:
            problems.append(f"{where}.params: {exc}")
            continue
        rules.append(
            Rule(entry.id, entry.description, entry.severity, entry.outcome, params,
                 frozenset(entry.applies_to))
        )  # fmt: skip
    return rules


def _loc(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def _wallet_key(address: str) -> str:
    address = address.strip()
    return address.lower() if address.startswith("0x") else address


def _to_rule_set(file: RuleSetFile) -> RuleSet:
    problems: list[str] = []
    rules = _build_rules(file, problems)
    risk, lists = None, {}
    try:
        risk = file.risk.build(file.lists)
    except ValueError as exc:
        problems.append(f"risk: {exc}")
    for name, codes in file.lists.items():
        try:
            lists[name] = frozenset(_country_codes(codes))
        except ValueError as exc:
            problems.append(f"lists.{name}: {exc}")
    if problems:
        raise InvalidRuleSet("the rule set is invalid", version=file.version, problems=problems)
    tags = {
        _wallet_key(t.address): WalletTag(_wallet_key(t.address), frozenset(t.tags), t.label)
        for t in file.wallet_tags
    }
    return RuleSet(file.version, tuple(rules), tags, lists, file.description, risk)


def parse_rule_set(text: str, *, source: str = "<text>") -> RuleSet:
    """The rule set a YAML text declares; InvalidRuleSet listing every problem otherwise."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise InvalidRuleSet(
            "the rule file is not valid YAML", source=source, problems=[f"{where}: {exc}"]
        ) from None
    if not isinstance(data, dict):
        raise InvalidRuleSet(
            "a rule file is a mapping", source=source, problems=["top level: not a mapping"]
        )
    try:
        file = RuleSetFile.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_loc(e['loc']).lstrip('.')}: {e['msg']}" for e in exc.errors()]
        raise InvalidRuleSet("the rule set is invalid", source=source, problems=problems) from None
    return _to_rule_set(file)
