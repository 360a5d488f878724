"""Per-client token buckets: in memory (embedded default) or in Redis (shared by workers)."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from typing import Any

from twinrail.api.domain.token_bucket import Bucket, BucketDecision, take_token

__all__ = ["RateLimiter", "InMemoryRateLimiter", "RedisRateLimiter"]


class RateLimiter(ABC):
    """Takes one token from a named bucket of `burst` tokens refilled at `rate` a second."""

    blocking = False  # does `take` wait on I/O (then callers run it off the event loop)?

    def __init__(self, *, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst

    @abstractmethod
    def take(self, name: str) -> BucketDecision: ...


class InMemoryRateLimiter(RateLimiter):
    """Buckets in this process; exact for one API process, per-process with several."""

    def __init__(self, *, rate: float, burst: int, max_buckets: int = 100_000) -> None:
        super().__init__(rate=rate, burst=burst)
        self.max_buckets = max_buckets
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def take(self, name: str) -> BucketDecision:
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) >= self.max_buckets and name not in self._buckets:
                self._buckets.clear()  # a full bucket is the default: forgetting is lenient
            bucket, decision = take_token(
                self._buckets.get(name), now, rate=self.rate, burst=self.burst
            )
            self._buckets[name] = bucket
        return decision


# The same arithmetic as domain.token_bucket.take_token, run atomically inside Redis.
_LUA = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'at')
local tokens = tonumber(state[1])
if tokens == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + math.max(0, now - tonumber(state[2])) * rate)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', key, math.ceil(burst / rate) + 1)
return {allowed, tostring(tokens)}
"""


class RedisRateLimiter(RateLimiter):
    """Buckets in Redis, shared by every API process; Redis's clock decides refills."""

    blocking = True

    def __init__(
        self, url: str, *, rate: float, burst: int, timeout: float = 0.5, prefix: str = "ratelimit:"
    ) -> None:
        super().__init__(rate=rate, burst=burst)
        import redis

        self._redis: Any = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._script = self._redis.register_script(_LUA)
        self.prefix = prefix

    def take(self, name: str) -> BucketDecision:
        allowed, tokens_text = self._script(keys=[self.prefix + name], args=[self.rate, self.burst])
        tokens = float(tokens_text)
        _, decision = take_token(Bucket(tokens + (1 if allowed else 0), 0.0), 0.0,
                                 rate=self.rate, burst=self.burst)  # fmt: skip
        return decision

    def close(self) -> None:
        self._redis.close()
