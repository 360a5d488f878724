"""Transaction-monitoring rules as data: a versioned rule set, the movement under decision, the
snapshot of the customer's recent history the service loads, and the hits (evaluated by
`rules_evaluation`).

Windows follow the limits' convention: a window of length W ending at `now` holds the movements
with `now - W < at <= now`, so a movement exactly W old has left it. Thresholds are inclusive:
"at or above" fires on the threshold itself. The movement being decided counts in its own
velocity and structuring windows. Past movements that were blocked never count (no money moved);
allowed and reviewed ones do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from twinrail.compliance.domain.decision import Counterparty, Outcome

if TYPE_CHECKING:
    from twinrail.compliance.domain.risk import RiskModel

__all__ = [
    "Severity",
    "Direction",
    "OUTFLOW_TYPES",
    "AmountThreshold",
    "Velocity",
    "Structuring",
    "HighRiskJurisdiction",
    "RapidInOut",
    "NewBeneficiary",
    "DormantReactivation",
    "RiskyWallet",
    "RuleParams",
    "Rule",
    "WalletTag",
    "RuleSet",
    "PastMovement",
    "CustomerHistory",
    "MovementFacts",
    "RuleHit",
    "beneficiary_key",
]


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


# Order types that take money away from the customer (rapid in-and-out looks at these).
OUTFLOW_TYPES = frozenset({"bank_payment", "crypto_withdrawal", "off_ramp", "internal_transfer"})


@dataclass(frozen=True, slots=True)
class AmountThreshold:
    """Fires when the movement is worth at least `at_or_above` EUR cents."""

    at_or_above: int


@dataclass(frozen=True, slots=True)
class Velocity:
    """Fires when the outgoing movements in `window` (this one included) exceed `max_count`
    in number or `max_eur` in EUR cents (either may be None)."""

    window: dt.timedelta
    max_count: int | None = None
    max_eur: int | None = None


@dataclass(frozen=True, slots=True)
class Structuring:
    """Fires when at least `min_count` outgoing movements in `window` (this one included) are
    each just under `threshold`: at least `threshold - margin`, below `threshold`."""

    threshold: int
    margin: int
    window: dt.timedelta
    min_count: int


@dataclass(frozen=True, slots=True)
class HighRiskJurisdiction:
    """Fires when a country of the movement (IBAN, BIC, counterparty or customer) is listed."""

    countries: frozenset[str]
    sources: frozenset[str]  # of "iban", "bic", "counterparty", "customer"
    list_name: str = ""


@dataclass(frozen=True, slots=True)
class RapidInOut:
    """Fires when an outgoing movement takes at least `min_share_percent` of the inflows received
    in `window`, and those inflows reach `min_inflow` EUR cents."""

    window: dt.timedelta
    min_inflow: int
    min_share_percent: int


@dataclass(frozen=True, slots=True)
class NewBeneficiary:
    """Fires on the first payment to a beneficiary (IBAN or wallet) of at least `at_or_above`."""

    at_or_above: int


@dataclass(frozen=True, slots=True)
class DormantReactivation:
    """Fires when a customer with earlier activity was silent for at least `dormant_for` and
    now moves at least `at_or_above` EUR cents."""

    dormant_for: dt.timedelta
    at_or_above: int


@dataclass(frozen=True, slots=True)
class RiskyWallet:
    """Fires when the counterparty wallet carries one of `tags` in the rule set's tag list."""

    tags: frozenset[str]


RuleParams = (
    AmountThreshold
    | Velocity
    | Structuring
    | HighRiskJurisdiction
    | RapidInOut
    | NewBeneficiary
    | DormantReactivation
    | RiskyWallet
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: what it checks (`params`), what it asks for when it fires, and for which orders
    (`applies_to` empty: every order type)."""

    id: str
    description: str
    severity: Severity
    outcome: Outcome
    params: RuleParams
    applies_to: frozenset[str] = frozenset()

    def applies(self, order_type: str) -> bool:
        return not self.applies_to or order_type in self.applies_to


@dataclass(frozen=True, slots=True)
class WalletTag:
    """A wallet address known for what it is (a mixer, a sanctioned service), and its source."""

    address: str  # lower-case for EVM addresses
    tags: frozenset[str]
    label: str = ""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A versioned set of rules with the data they use (country lists, wallet tags) and the
    risk model they feed (None: the default model)."""

    version: str
    rules: tuple[Rule, ...]
    wallet_tags: Mapping[str, WalletTag] = field(default_factory=dict)
    lists: Mapping[str, frozenset[str]] = field(default_factory=dict)
    description: str = ""
    risk: RiskModel | None = None

    def longest_window(self, order_type: str | None = None) -> dt.timedelta:
        """How far back the history must reach for every windowed rule (that applies to
        `order_type`, when given)."""
        spans = [dt.timedelta(0)]
        for rule in self.rules:
            p = rule.params
            if order_type is not None and not rule.applies(order_type):
                continue
            if isinstance(p, Velocity | Structuring | RapidInOut):
                spans.append(p.window)
        return max(spans)

    def reads_history(self, order_type: str) -> bool:
        """Whether any rule that applies to `order_type` looks at the customer's past."""
        return any(
            rule.applies(order_type) and isinstance(rule.params, _HISTORY_RULES)
            for rule in self.rules
        )


_HISTORY_RULES = (Velocity, Structuring, RapidInOut, NewBeneficiary, DormantReactivation)


@dataclass(frozen=True, slots=True)
class PastMovement:
    """A movement decided earlier, as the rules see it."""

    at: dt.datetime
    eur_cents: int
    direction: Direction
    order_type: str
    outcome: Outcome = Outcome.ALLOW
    beneficiary: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """What the service loads for the rules: movements since the longest window, the last
    activity before them, and whether this beneficiary was paid before."""

    movements: tuple[PastMovement, ...] = ()
    last_activity_at: dt.datetime | None = None
    known_beneficiary: bool = False


@dataclass(frozen=True, slots=True)
class MovementFacts:
    """The movement under decision, as the rules see it (`eur_cents` None: no price)."""

    order_id: str
    customer_id: str
    order_type: str
    eur_cents: int | None
    at: dt.datetime
    counterparty: Counterparty | None = None
    customer_country: str | None = None

    @property
    def direction(self) -> Direction:
        return Direction.OUT if self.order_type in OUTFLOW_TYPES else Direction.IN

    @property
    def beneficiary(self) -> str | None:
        return beneficiary_key(self.counterparty)


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that fired, with the facts that made it fire."""

    rule_id: str
    severity: Severity
    outcome: Outcome
    description: str
    facts: Mapping[str, str | int]

    @property
    def detail(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.facts.items())

    def to_dict(self) -> dict[str, object]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "outcome": self.outcome.value,
            "description": self.description,
            "facts": dict(self.facts),
        }


def beneficiary_key(counterparty: Counterparty | None) -> str | None:
    """A stable key for who is paid: the IBAN (compact, upper) or the wallet (EVM lower-cased)."""
    if counterparty is None:
        return None
    if counterparty.iban:
        return "iban:" + "".join(counterparty.iban.split()).upper()
    if counterparty.wallet:
        wallet = counterparty.wallet.strip()
        return "wallet:" + (wallet.lower() if wallet.startswith("0x") else wallet)
    return None
