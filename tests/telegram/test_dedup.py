"""A redelivered update is handled once, in one process or across replicas (Redis)."""
from __future__ import annotations

import os
import uuid

import pytest

from channels.telegram.dedup import InMemoryUpdateLog, RedisUpdateLog, update_log_from_env


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_in_memory_log_sees_each_update_once_until_it_expires():
    clock = FakeClock()
    log = InMemoryUpdateLog(ttl_seconds=60, clock=clock)
    assert await log.first_time(1) is True
    assert await log.first_time(1) is False
    clock.now = 61
    assert await log.first_time(1) is True


async def test_in_memory_log_stays_bounded_forgetting_the_oldest():
    log = InMemoryUpdateLog(max_entries=3)
    for update_id in range(5):
        assert await log.first_time(update_id)
    assert await log.first_time(4) is False
    assert await log.first_time(0) is True  # evicted, so seen as new


class FakeRedis:
    """Just ``SET key value NX EX ttl``, as redis.asyncio implements it."""

    def __init__(self, broken: bool = False) -> None:
        self.values = {}
        self.broken = broken
        self.expiries = {}

    async def set(self, name, value, nx=False, ex=None):
        if self.broken:
            raise ConnectionError("redis down")
        if nx and name in self.values:
            return None
        self.values[name] = value
        self.expiries[name] = ex
        return True


async def test_redis_log_is_shared_between_replicas_and_namespaced_per_bot():
    redis = FakeRedis()
    replica_a = RedisUpdateLog(redis, namespace="123456789", ttl_seconds=3600)
    replica_b = RedisUpdateLog(redis, namespace="123456789", ttl_seconds=3600)
    other_bot = RedisUpdateLog(redis, namespace="987654321", ttl_seconds=3600)
    assert await replica_a.first_time(7) is True
    assert await replica_b.first_time(7) is False
    assert await other_bot.first_time(7) is True
    assert redis.expiries["telegram:update:123456789:7"] == 3600


async def test_when_redis_is_down_the_update_is_processed_rather_than_lost():
    log = RedisUpdateLog(FakeRedis(broken=True), namespace="1")
    assert await log.first_time(7) is True


def test_without_redis_url_the_log_is_in_process(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(update_log_from_env("1"), InMemoryUpdateLog)


def test_with_redis_url_the_log_uses_redis_without_connecting_yet():
    assert isinstance(update_log_from_env("1", redis_url="redis://127.0.0.1:1/0"), RedisUpdateLog)


async def test_real_redis_drops_a_redelivery_seen_by_another_replica():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("REQUIRE_INTEGRATION") == "1":
            pytest.fail("TEST_REDIS_URL is not set but REQUIRE_INTEGRATION=1")
        pytest.skip('TEST_REDIS_URL not set (run: eval "$(bash scripts/integration_services.sh)")')
    namespace = f"test-{uuid.uuid4().hex}"
    replica_a = RedisUpdateLog.from_url(url, namespace)
    replica_b = RedisUpdateLog.from_url(url, namespace)
    try:
        assert await replica_a.first_time(731500101) is True
        assert await replica_b.first_time(731500101) is False
    finally:
        await replica_a._client.delete(f"telegram:update:{namespace}:731500101")
        await replica_a._client.close()
        await replica_b._client.close()
