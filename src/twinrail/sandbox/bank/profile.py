"""Bank profiles: how one sandbox bank behaves (SCA approaches, signatures, limits, faults, quirks).

A profile is a YAML file in `twinrail/sandbox/bank/profiles/` (or a directory given by
`TWINRAIL_SANDBOX_BANK_PROFILES_DIR`). A profile name without a file runs with the default
settings under that name, so that several plain banks can run side by side, each with its own
database. Faults are configured, never random by default: "every Nth request", or a rate drawn
from a generator seeded in the profile, so that a run can be repeated exactly.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "ScaApproachName",
    "RateLimit",
    "Faults",
    "Lifetimes",
    "Quirks",
    "BankProfile",
    "load_profile",
    "profile_names",
    "PROFILES_PACKAGE_DIR",
]

ScaApproachName = Literal["redirect", "decoupled", "embedded"]
PROFILES_PACKAGE_DIR = "profiles"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimit(_Strict):
    """At most `requests` per TPP certificate in any `per_seconds` (sandbox time); then 429."""

    requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)


class Faults(_Strict):
    """Failures the bank produces on purpose: before it does any work for the request (5xx,
    dropped connection), or after it (the response is lost).

    `*_every: N` hits every Nth request to /v1 (counted per bank from its start); `*_rate` hits
    a fraction of requests drawn from `random.Random(seed)`. Both are off (0) by default.
    """

    server_error_every: int = Field(default=0, ge=0)
    server_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    server_error_status: Literal[500, 503] = 500
    drop_connection_every: int = Field(default=0, ge=0)
    drop_connection_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    # The bank does the work (a payment is stored) but the answer is lost: what makes TPPs
    # need idempotent retries and status polling.
    lose_response_every: int = Field(default=0, ge=0)
    seed: int = 0

    @property
    def any(self) -> bool:
        """Whether any fault is configured."""
        return bool(
            self.server_error_every
            or self.server_error_rate
            or self.drop_connection_every
            or self.drop_connection_rate
            or self.lose_response_every
        )


class Lifetimes(_Strict):
    """How long what the bank grants lasts."""

    # validUntil is shortened to this; beyond 180 days access needs a new SCA every 180 days.
    consent_max_days: int = Field(default=180, ge=1, le=3650)


class Quirks(_Strict):
    """Deviations of real banks a TPP has to live with (all off by default)."""

    omit_transaction_ids: bool = False  # reports carry no transactionId
    pending_amount_change_minor: int = 0  # a debit is booked this many cents larger than pending
    booking_lag_days: int = Field(default=0, ge=0, le=10)  # bookingDate this much after valueDate


class BankProfile(_Strict):
    """One bank's behaviour."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    description: str = ""
    sca_approaches: tuple[ScaApproachName, ...] = ("embedded",)
    default_sca_approach: ScaApproachName = "embedded"
    sca_exemptions: bool = False  # whether the bank waives SCA where the RTS allows it
    signatures_required: bool = False
    rate_limit: RateLimit | None = None
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    faults: Faults = Faults()
    lifetimes: Lifetimes = Lifetimes()
    quirks: Quirks = Quirks()

    @model_validator(mode="after")
    def _default_is_offered(self) -> BankProfile:
        if not self.sca_approaches:
            raise ValueError("a bank offers at least one SCA approach")
        if self.default_sca_approach not in self.sca_approaches:
            raise ValueError("default_sca_approach must be one of sca_approaches")
        return self


def _package_dir() -> Path:
    return Path(str(resources.files("twinrail.sandbox.bank") / PROFILES_PACKAGE_DIR))


def _search_path(extra_dir: Path | None) -> list[Path]:
    return [d for d in (extra_dir, _package_dir()) if d is not None]


def profile_names(extra_dir: Path | None = None) -> list[str]:
    """The names of every profile file found."""
    names = {p.stem for d in _search_path(extra_dir) if d.is_dir() for p in d.glob("*.yaml")}
    return sorted(names)


def load_profile(name: str, extra_dir: Path | None = None) -> tuple[BankProfile, Path | None]:
    """The profile `name` and the file it came from; defaults (and None) when there is none."""
    for directory in _search_path(extra_dir):
        path = directory / f"{name}.yaml"
        if path.is_file():
            data = yaml.safe_load(path.read_text()) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{path}: a profile is a mapping")
            data.setdefault("name", name)
            if data["name"] != name:
                raise ValueError(f"{path}: names profile {data['name']!r}, not {name!r}")
            try:
                return BankProfile.model_validate(data), path
            except ValidationError as exc:
                raise ValueError(f"{path}: {exc}") from None
    return BankProfile(name=name), None
