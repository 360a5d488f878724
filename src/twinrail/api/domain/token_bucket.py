"""The token bucket: `rate` tokens a second refill a bucket of `burst`; a request takes one."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Bucket", "BucketDecision", "take_token"]


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    updated_at: float  # seconds, monotonic


@dataclass(frozen=True, slots=True)
class BucketDecision:
    allowed: bool
    remaining: int
    retry_after: int  # whole seconds until a token is available (0 when allowed)
    reset_after: int  # whole seconds until the bucket is full again


def take_token(
    bucket: Bucket | None, now: float, *, rate: float, burst: int
) -> tuple[Bucket, BucketDecision]:
    """Refill `bucket` up to `now` and try to take one token from it."""
    tokens = float(burst) if bucket is None else bucket.tokens
    if bucket is not None:
        tokens = min(float(burst), tokens + max(0.0, now - bucket.updated_at) * rate)
    allowed = tokens >= 1.0
    if allowed:
        tokens -= 1.0
    retry_after = 0 if allowed else max(1, math.ceil((1.0 - tokens) / rate))
    reset_after = math.ceil((burst - tokens) / rate)
    decision = BucketDecision(allowed, int(tokens), retry_after, reset_after)
    return Bucket(tokens, now), decision
