"""Evaluating a rule set over one movement and the customer's history: pure, one function per
rule kind, each returning the facts that made it fire (None: it did not).

Windows hold the movements with `now - W < at <= now`; thresholds are inclusive; blocked past
movements never count (see `rules`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.domain.limits import format_eur
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
    RuleHit,
    RuleSet,
    Structuring,
    Velocity,
    WalletTag,
)

__all__ = ["evaluate_rules"]


def _in_window(at: dt.datetime, now: dt.datetime, window: dt.timedelta) -> bool:
    return now - window < at <= now


def _counted(history: CustomerHistory, direction: Direction) -> Iterable[PastMovement]:
    return (
        m for m in history.movements if m.direction is direction and m.outcome is not Outcome.BLOCK
    )


def _countries(facts: MovementFacts) -> dict[str, str]:
    cp = facts.counterparty
    found: dict[str, str] = {}
    if cp and cp.iban and len("".join(cp.iban.split())) >= 2:
        found["iban"] = "".join(cp.iban.split())[:2].upper()
    if cp and cp.bic and len(cp.bic.strip()) >= 6:
        found["bic"] = cp.bic.strip()[4:6].upper()
    if cp and cp.country:
        found["counterparty"] = cp.country.strip().upper()
    if facts.customer_country:
        found["customer"] = facts.customer_country.strip().upper()
    return found


def _amount(p: AmountThreshold, facts: MovementFacts) -> dict[str, str | int] | None:
    if facts.eur_cents is None or facts.eur_cents < p.at_or_above:
        return None
    return {"eur": format_eur(facts.eur_cents), "threshold_eur": format_eur(p.at_or_above)}


def _velocity(
    p: Velocity, facts: MovementFacts, history: CustomerHistory
) -> dict[str, str | int] | None:
    if facts.eur_cents is None or facts.direction is not Direction.OUT:
        return None
    inside = [m for m in _counted(history, Direction.OUT) if _in_window(m.at, facts.at, p.window)]
    count = len(inside) + 1
    total = sum(m.eur_cents for m in inside) + facts.eur_cents
    over_count = p.max_count is not None and count > p.max_count
    over_sum = p.max_eur is not None and total > p.max_eur
    if not (over_count or over_sum):
        return None
    out: dict[str, str | int] = {"window": str(p.window), "count": count, "eur": format_eur(total)}
    if p.max_count is not None:
        out["max_count"] = p.max_count
    if p.max_eur is not None:
        out["max_eur"] = format_eur(p.max_eur)
    return out


def _just_under(p: Structuring, eur_cents: int) -> bool:
    return p.threshold - p.margin <= eur_cents < p.threshold


def _structuring(
    p: Structuring, facts: MovementFacts, history: CustomerHistory
) -> dict[str, str | int] | None:
    if facts.eur_cents is None or facts.direction is not Direction.OUT:
        return None
    if not _just_under(p, facts.eur_cents):
        return None
    inside = [
        m
        for m in _counted(history, Direction.OUT)
        if _in_window(m.at, facts.at, p.window) and _just_under(p, m.eur_cents)
    ]
    count = len(inside) + 1
    if count < p.min_count:
        return None
    return {
        "count": count,
        "window": str(p.window),
        "band_eur": f"{format_eur(p.threshold - p.margin)}..{format_eur(p.threshold)}",
    }


def _jurisdiction(p: HighRiskJurisdiction, facts: MovementFacts) -> dict[str, str | int] | None:
    hits = {
        source: country
        for source, country in _countries(facts).items()
        if source in p.sources and country in p.countries
    }
    if not hits:
        return None
    named: dict[str, str | int] = {f"{source}_country": c for source, c in sorted(hits.items())}
    if p.list_name:
        named["list"] = p.list_name
    return named


def _rapid(
    p: RapidInOut, facts: MovementFacts, history: CustomerHistory
) -> dict[str, str | int] | None:
    if facts.eur_cents is None or facts.direction is not Direction.OUT:
        return None
    inflow = sum(
        m.eur_cents for m in _counted(history, Direction.IN) if _in_window(m.at, facts.at, p.window)
    )
    if inflow <= 0 or inflow < p.min_inflow:
        return None
    if facts.eur_cents * 100 < inflow * p.min_share_percent:
        return None
    return {
        "inflow_eur": format_eur(inflow),
        "out_eur": format_eur(facts.eur_cents),
        "window": str(p.window),
        "min_share_percent": p.min_share_percent,
    }


def _new_beneficiary(
    p: NewBeneficiary, facts: MovementFacts, history: CustomerHistory
) -> dict[str, str | int] | None:
    key = facts.beneficiary
    if key is None or history.known_beneficiary or facts.eur_cents is None:
        return None
    if facts.eur_cents < p.at_or_above:
        return None
    return {"beneficiary": _masked(key), "eur": format_eur(facts.eur_cents)}


def _masked(key: str) -> str:
    """The beneficiary key with its middle hidden: reasons travel to the order and its events,
    where an account number is personal data (the full key stays in the stored inputs)."""
    kind, _, value = key.partition(":")
    return f"{kind}:{value[:4]}…{value[-4:]}" if len(value) > 8 else f"{kind}:…"


def _dormant(
    p: DormantReactivation, facts: MovementFacts, history: CustomerHistory
) -> dict[str, str | int] | None:
    last = history.last_activity_at
    if last is None or facts.eur_cents is None or facts.eur_cents < p.at_or_above:
        return None
    silent = facts.at - last
    if silent < p.dormant_for:
        return None
    return {"silent_days": silent.days, "eur": format_eur(facts.eur_cents)}


def _risky_wallet(
    p: RiskyWallet, facts: MovementFacts, tags: Mapping[str, WalletTag]
) -> dict[str, str | int] | None:
    cp = facts.counterparty
    if cp is None or not cp.wallet:
        return None
    wallet = cp.wallet.strip()
    tag = tags.get(wallet.lower() if wallet.startswith("0x") else wallet)
    if tag is None or not tag.tags & p.tags:
        return None
    return {"wallet": wallet, "tags": ",".join(sorted(tag.tags & p.tags)), "label": tag.label}


def _facts_of(
    rule: Rule, facts: MovementFacts, history: CustomerHistory, rule_set: RuleSet
) -> dict[str, str | int] | None:
    p = rule.params
    if isinstance(p, AmountThreshold):
        return _amount(p, facts)
    if isinstance(p, Velocity):
        return _velocity(p, facts, history)
    if isinstance(p, Structuring):
        return _structuring(p, facts, history)
    if isinstance(p, HighRiskJurisdiction):
        return _jurisdiction(p, facts)
    if isinstance(p, RapidInOut):
        return _rapid(p, facts, history)
    if isinstance(p, NewBeneficiary):
        return _new_beneficiary(p, facts, history)
    if isinstance(p, DormantReactivation):
        return _dormant(p, facts, history)
    return _risky_wallet(p, facts, rule_set.wallet_tags)


def evaluate_rules(
    rule_set: RuleSet, facts: MovementFacts, history: CustomerHistory
) -> tuple[RuleHit, ...]:
    """Every rule of the set that fires on this movement, in the set's order."""
    hits = []
    for rule in rule_set.rules:
        if not rule.applies(facts.order_type):
            continue
        found = _facts_of(rule, facts, history, rule_set)
        if found is not None:
            hits.append(RuleHit(rule.id, rule.severity, rule.outcome, rule.description, found))
    return tuple(hits)
