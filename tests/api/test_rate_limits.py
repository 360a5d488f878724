"""Per-client token buckets: 429 with Retry-After and RateLimit-* headers; Redis when configured."""

from __future__ import annotations

import os
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import require_service
from twinrail.api.adapters.rate_limit import InMemoryRateLimiter, RedisRateLimiter
from twinrail.api.domain.roles import Role
from twinrail.api.domain.token_bucket import take_token

from .conftest import make_app, new_caller

REDIS_URL = os.environ.get("TWINRAIL_TEST_REDIS_URL", "")


def test_a_client_past_its_burst_gets_429_with_retry_after(sqlite_engine: Engine) -> None:
    app = make_app(sqlite_engine, rate_burst=3, rate_per_second=0.5)
    with TestClient(app, raise_server_exceptions=False) as client:
        caller = new_caller(client, Role.CLIENT)
        first = client.get("/v1/customers", headers=caller.headers)
        assert first.headers["RateLimit-Limit"] == "3"
        assert first.headers["RateLimit-Remaining"] == "2"
        statuses = [client.get("/v1/customers", headers=caller.headers) for _ in range(3)]
        assert [r.status_code for r in statuses] == [200, 200, 429]
        limited = statuses[-1]
        assert limited.headers["Retry-After"] == "2"
        assert limited.headers["RateLimit-Remaining"] == "0"
        assert limited.json()["code"] == "api.rate_limited"
        other = new_caller(client, Role.CLIENT)  # buckets are per client
        assert client.get("/v1/customers", headers=other.headers).status_code == 200


def test_the_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket, decision = take_token(None, 0.0, rate=1.0, burst=2)
    bucket, decision = take_token(bucket, 0.0, rate=1.0, burst=2)
    bucket, decision = take_token(bucket, 0.0, rate=1.0, burst=2)
    assert not decision.allowed and decision.retry_after == 1
    bucket, decision = take_token(bucket, 1.0, rate=1.0, burst=2)
    assert decision.allowed
    _, decision = take_token(bucket, 100.0, rate=1.0, burst=2)
    assert decision.allowed and decision.remaining == 1


def test_in_memory_and_redis_buckets_agree() -> None:
    require_service(REDIS_URL, "Redis")
    name = f"test-{uuid.uuid4().hex}"
    redis_limiter = RedisRateLimiter(REDIS_URL, rate=0.01, burst=3)
    memory = InMemoryRateLimiter(rate=0.01, burst=3)
    try:
        shared = [redis_limiter.take(name).allowed for _ in range(4)]
        local = [memory.take(name).allowed for _ in range(4)]
        assert shared == local == [True, True, True, False]
        assert redis_limiter.take(name).retry_after >= 1
    finally:
        redis_limiter.close()
