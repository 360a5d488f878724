"""The decision on one movement: KYC, limits and counterparty screening into allow, review or
block, with the reasons as stable codes.

The outcome is the most severe one any reason carries (block > review > allow). Reasons:

- `kyc.rejected` (block): the customer failed KYC.
- `kyc.tier_capped` (allow): an unverified/pending/expired customer is held to tier 0.
- `limits.per_transaction_exceeded`, `limits.daily_exceeded`, `limits.rolling_30_days_exceeded`
  (block): the movement's EUR value breaks the effective tier's limit.
- `price.unknown_asset` (review): no EUR value for the asset, so limits cannot be checked.
- `sanctions.counterparty_identifier_hit` (block): the IBAN, BIC or wallet is listed.
- `sanctions.counterparty_name_hit` (block at or above `name_block_score`, else review).
- `sanctions.counterparty_invalid` (review): the counterparty data could not be screened.
- `limits.within` (allow): nothing else to say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from twinrail.compliance.domain.kyc import (
    KycProfile,
    KycStatus,
    LimitSchedule,
    Tier,
    effective_tier,
)
from twinrail.compliance.domain.limits import Movement, check_limits, format_eur
from twinrail.compliance.domain.results import ScreeningResult

__all__ = [
    "RULES_VERSION",
    "Outcome",
    "Reason",
    "Counterparty",
    "DecisionInputs",
    "MovementDecision",
    "decide_movement",
]

# Bump when the logic of `decide_movement` changes; stored with every decision.
RULES_VERSION = "decision-v1"
IDENTIFIER_FEATURES = frozenset({"iban_match", "bic_match", "wallet_match"})


class Outcome(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


_SEVERITY = {Outcome.ALLOW: 0, Outcome.REVIEW: 1, Outcome.BLOCK: 2}


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason for a decision: a stable code, the outcome it asks for, and its detail."""

    code: str
    outcome: Outcome
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "outcome": self.outcome.value, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Counterparty:
    """Who receives the money, as far as the order says: a name, an IBAN, a wallet."""

    name: str = ""
    iban: str | None = None
    bic: str | None = None
    wallet: str | None = None
    country: str | None = None

    @property
    def given(self) -> bool:
        return bool(self.name.strip() or self.iban or self.bic or self.wallet)

    def to_dict(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "iban": self.iban,
            "bic": self.bic,
            "wallet": self.wallet,
            "country": self.country,
        }


@dataclass(frozen=True, slots=True)
class DecisionInputs:
    """Everything a decision is made from; stored with it so it can be replayed and explained."""

    order_id: str
    customer_id: str
    order_type: str
    asset: str
    amount: int  # minor units of `asset`
    eur_cents: int | None  # None: the asset has no price
    at: dt.datetime
    profile: KycProfile
    history: Sequence[Movement]
    limits: LimitSchedule
    counterparty: Counterparty | None = None
    screening: ScreeningResult | None = None
    screening_error: str | None = None
    name_block_score: float = 0.95


@dataclass(frozen=True, slots=True)
class MovementDecision:
    """The outcome, its reasons, and the versions of everything that produced it."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    effective_tier: Tier
    rules_version: str
    limits_version: str
    list_versions: tuple[tuple[str, int], ...] = field(default=())

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "effective_tier": int(self.effective_tier),
            "rules_version": self.rules_version,
            "limits_version": self.limits_version,
            "list_versions": dict(self.list_versions),
        }


def _kyc_reasons(profile: KycProfile) -> list[Reason]:
    if profile.status is KycStatus.REJECTED:
        return [Reason("kyc.rejected", Outcome.BLOCK, "the customer failed KYC")]
    if profile.tier > Tier.BASIC and effective_tier(profile) is Tier.BASIC:
        detail = f"tier {int(profile.tier)} needs verified KYC; status {profile.status.value}"
        return [Reason("kyc.tier_capped", Outcome.ALLOW, detail)]
    return []


def _limit_reasons(inputs: DecisionInputs, tier: Tier) -> list[Reason]:
    if inputs.eur_cents is None:
        return [Reason("price.unknown_asset", Outcome.REVIEW, f"no EUR price for {inputs.asset}")]
    limits = inputs.limits.for_tier(tier)
    breaches = check_limits(inputs.eur_cents, inputs.history, inputs.at, limits)
    return [Reason(b.code, Outcome.BLOCK, f"tier {int(tier)}: {b.detail}") for b in breaches]


def _screening_reasons(inputs: DecisionInputs) -> list[Reason]:
    if inputs.screening_error is not None:
        return [Reason("sanctions.counterparty_invalid", Outcome.REVIEW, inputs.screening_error)]
    if inputs.screening is None:
        return []
    reasons = []
    for hit in inputs.screening.hits:
        where = f"{hit.list_name} v{hit.list_version} {hit.entity_id} ({hit.entity_name})"
        if any(f.name in IDENTIFIER_FEATURES for f in hit.features):
            reasons.append(
                Reason("sanctions.counterparty_identifier_hit", Outcome.BLOCK, f"{where}")
            )
        else:
            severe = hit.score >= inputs.name_block_score
            outcome = Outcome.BLOCK if severe else Outcome.REVIEW
            detail = f"{where} score {hit.score:.3f}"
            reasons.append(Reason("sanctions.counterparty_name_hit", outcome, detail))
    return reasons


def decide_movement(inputs: DecisionInputs) -> MovementDecision:
    """Combine KYC, limits and counterparty screening into one decision with its reasons."""
    tier = effective_tier(inputs.profile)
    reasons = [*_kyc_reasons(inputs.profile), *_limit_reasons(inputs, tier)]
    reasons += _screening_reasons(inputs)
    outcome = max((r.outcome for r in reasons), key=_SEVERITY.__getitem__, default=Outcome.ALLOW)
    if outcome is Outcome.ALLOW:
        detail = f"{format_eur(inputs.eur_cents or 0)} EUR within tier {int(tier)} limits"
        reasons.append(Reason("limits.within", Outcome.ALLOW, detail))
    versions = inputs.screening.list_versions if inputs.screening else ()
    return MovementDecision(
        outcome, tuple(reasons), tier, RULES_VERSION, inputs.limits.version, versions
    )
