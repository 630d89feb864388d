"""A redelivered update is handled once, in one process or across replicas (Redis); an update whose
processing did not finish (the process died, the turn failed) is handled on redelivery."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from channels.telegram.dedup import (Claim, InMemoryUpdateLog, RedisUpdateLog, process_identity,
                                     update_log_from_env)
from tests.telegram.conftest import load_update


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_in_memory_log_sees_each_update_once_until_it_expires():
    clock = FakeClock()
    log = InMemoryUpdateLog(ttl_seconds=60, clock=clock)
    assert await log.claim(1) is Claim.PROCESS
    await log.done(1)
    assert await log.claim(1) is Claim.DONE
    clock.now = 61
    assert await log.claim(1) is Claim.PROCESS


async def test_in_memory_log_stays_bounded_forgetting_the_oldest():
    log = InMemoryUpdateLog(max_entries=3)
    for update_id in range(5):
        assert await log.claim(update_id) is Claim.PROCESS
        await log.done(update_id)
    assert await log.claim(4) is Claim.DONE
    assert await log.claim(0) is Claim.PROCESS  # evicted, so seen as new


async def test_in_memory_redelivery_during_processing_is_told_in_progress_until_the_lease_lapses():
    clock = FakeClock()
    log = InMemoryUpdateLog(lease_seconds=60, clock=clock)
    assert await log.claim(1) is Claim.PROCESS
    assert await log.claim(1) is Claim.IN_PROGRESS  # a concurrent redelivery: no second turn
    clock.now = 61  # the first delivery never finished (its process died): the next one runs it
    assert await log.claim(1) is Claim.PROCESS
    await log.done(1)
    clock.now = 1000
    assert await log.claim(1) is Claim.DONE  # done lasts the long TTL, not the lease


async def test_in_memory_failed_processing_releases_the_claim():
    log = InMemoryUpdateLog()
    assert await log.claim(1) is Claim.PROCESS
    await log.release(1)
    assert await log.claim(1) is Claim.PROCESS


async def test_in_memory_lapsed_lease_behind_newer_entries_is_let_through():
    clock = FakeClock()
    log = InMemoryUpdateLog(lease_seconds=10, clock=clock)
    await log.claim(1)
    await log.done(1)            # the oldest entry, done for 24 hours
    await log.claim(2)           # in progress, never finished
    clock.now = 11
    assert await log.claim(2) is Claim.PROCESS


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

    async def get(self, name):
        if self.broken:
            raise ConnectionError("redis down")
        value = self.values.get(name)
        return value.encode() if isinstance(value, str) else value

    async def delete(self, name):
        if self.broken:
            raise ConnectionError("redis down")
        self.values.pop(name, None)

    def expire(self, name):
        """What Redis does when a key's EX runs out."""
        del self.values[name]


async def test_redis_log_is_shared_between_replicas_and_namespaced_per_bot():
    redis = FakeRedis()
    replica_a = RedisUpdateLog(redis, namespace="123456789", ttl_seconds=3600, lease_seconds=30)
    replica_b = RedisUpdateLog(redis, namespace="123456789", ttl_seconds=3600, lease_seconds=30)
    other_bot = RedisUpdateLog(redis, namespace="987654321", ttl_seconds=3600, lease_seconds=30)
    assert await replica_a.claim(7) is Claim.PROCESS
    assert redis.expiries["telegram:update:123456789:7"] == 30  # the in-flight lease
    assert await replica_b.claim(7) is Claim.IN_PROGRESS
    assert await other_bot.claim(7) is Claim.PROCESS
    await replica_a.done(7)
    assert redis.expiries["telegram:update:123456789:7"] == 3600
    assert await replica_b.claim(7) is Claim.DONE


async def test_redis_claim_of_a_replica_that_died_is_taken_over_by_the_redelivery():
    redis = FakeRedis()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    holder = process_identity().split(":")
    holder[1] = dead.stdout.strip()  # this host, a process that has exited
    redis.values["telegram:update:1:7"] = "in-progress " + ":".join(holder)
    replica_a, replica_b = RedisUpdateLog(redis, namespace="1"), RedisUpdateLog(redis, namespace="1")
    assert await replica_a.claim(7) is Claim.PROCESS
    assert await replica_b.claim(7) is Claim.IN_PROGRESS  # only one redelivery takes it over


async def test_redis_claim_of_a_live_replica_is_kept_until_its_lease_lapses():
    redis = FakeRedis()
    replica_a, replica_b = RedisUpdateLog(redis, namespace="1"), RedisUpdateLog(redis, namespace="1")
    assert await replica_a.claim(7) is Claim.PROCESS
    assert await replica_b.claim(7) is Claim.IN_PROGRESS  # replica_a (this very process) is alive
    redis.expire("telegram:update:1:7")
    assert await replica_b.claim(7) is Claim.PROCESS


async def test_redis_failed_processing_releases_the_claim():
    redis = FakeRedis()
    log = RedisUpdateLog(redis, namespace="1")
    assert await log.claim(7) is Claim.PROCESS
    await log.release(7)
    assert await log.claim(7) is Claim.PROCESS


async def test_when_redis_is_down_the_update_is_processed_rather_than_lost():
    log = RedisUpdateLog(FakeRedis(broken=True), namespace="1")
    assert await log.claim(7) is Claim.PROCESS
    await log.done(7)     # logged, not raised
    await log.release(7)


def test_without_redis_url_the_log_is_in_process(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(update_log_from_env("1"), InMemoryUpdateLog)


def test_with_redis_url_the_log_uses_redis_without_connecting_yet():
    assert isinstance(update_log_from_env("1", redis_url="redis://127.0.0.1:1/0"), RedisUpdateLog)


async def test_real_redis_holds_a_redelivery_in_progress_then_drops_it_once_done():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("REQUIRE_INTEGRATION") == "1":
            pytest.fail("TEST_REDIS_URL is not set but REQUIRE_INTEGRATION=1")
        pytest.skip('TEST_REDIS_URL not set (run: eval "$(bash scripts/integration_services.sh)")')
    namespace = f"test-{uuid.uuid4().hex}"
    replica_a = RedisUpdateLog.from_url(url, namespace)
    replica_b = RedisUpdateLog.from_url(url, namespace)
    try:
        assert await replica_a.claim(731500101) is Claim.PROCESS
        assert await replica_b.claim(731500101) is Claim.IN_PROGRESS
        await replica_a.done(731500101)
        assert await replica_b.claim(731500101) is Claim.DONE
        assert 0 < await replica_a._client.ttl(f"telegram:update:{namespace}:731500101") <= 24 * 3600
    finally:
        await replica_a._client.delete(f"telegram:update:{namespace}:731500101")
        await replica_a._client.close()
        await replica_b._client.close()


async def test_a_failed_turn_is_answered_503_so_telegram_redelivers_and_the_redelivery_is_handled(
        serve_channel, bot_api):
    failures = [RuntimeError("the database is down")]

    def fails_once(message):
        if failures:
            raise failures.pop()
        return [{"text": "answered"}]

    server = await serve_channel(reply=fails_once)
    statuses = [(await server.post_update(load_update("text_en"))).status_code for _ in range(3)]
    assert statuses == [503, 200, 200]  # failed and released; handled; a duplicate of a handled update
    assert len(server.agent.messages) == 2
    assert bot_api.sent_texts() == ["answered"]
