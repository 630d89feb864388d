"""Remembers which Telegram update ids were already handled.

Telegram redelivers an update when the webhook answered late or not with 2xx,
so the same ``update_id`` can arrive twice (even concurrently). An update is
recorded when it arrives, before it is processed, so a redelivery that races
the first delivery is still dropped.
"""
from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from typing import Any, Callable, Optional, Protocol

logger = logging.getLogger(__name__)

# Telegram keeps undelivered updates for 24 hours; a redelivery is never older.
DEFAULT_TTL_SECONDS = 24 * 60 * 60
DEFAULT_MAX_ENTRIES = 10_000


class UpdateLog(Protocol):
    """Answers "is this the first time we see this update?" and records it."""

    async def first_time(self, update_id: int) -> bool:
        ...  # pragma: no cover


class InMemoryUpdateLog:
    """A per-process set of update ids, bounded in size and age (oldest evicted first) (enough for one Rasa replica)."""

    def __init__(
        self,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._seen: "OrderedDict[int, float]" = OrderedDict()

    async def first_time(self, update_id: int) -> bool:
        now = self._clock()
        while self._seen:
            oldest_id, expires_at = next(iter(self._seen.items()))
            if expires_at > now and len(self._seen) < self._max_entries:
                break
            del self._seen[oldest_id]
        if update_id in self._seen:
            return False
        self._seen[update_id] = now + self._ttl
        return True


class RedisUpdateLog:
    """The same set shared by all replicas, as ``SET key NX EX ttl`` in Redis.

    If Redis is unreachable the update is processed (a rare duplicate answer is
    better than a borrower's message silently lost).
    """

    def __init__(self, client: Any, namespace: str, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self._client = client
        self._namespace = namespace
        self._ttl = int(ttl_seconds)

    @classmethod
    def from_url(cls, url: str, namespace: str) -> "RedisUpdateLog":
        import redis.asyncio as redis_asyncio  # only needed when REDIS_URL is set

        return cls(redis_asyncio.from_url(url), namespace)

    async def first_time(self, update_id: int) -> bool:
        key = f"telegram:update:{self._namespace}:{update_id}"
        try:
            return bool(await self._client.set(key, "1", nx=True, ex=self._ttl))
        except Exception:  # noqa: BLE001 - any Redis failure must not drop the message
            logger.warning("telegram.dedup.redis_unavailable update_id=%s", update_id, exc_info=True)
            return True


def update_log_from_env(namespace: str, redis_url: Optional[str] = None) -> UpdateLog:
    """Redis when ``REDIS_URL`` is set, the in-process set otherwise.

    ``namespace`` separates bots sharing one Redis (update ids are per bot).
    """
    redis_url = redis_url if redis_url is not None else os.environ.get("REDIS_URL", "")
    if redis_url:
        return RedisUpdateLog.from_url(redis_url, namespace)
    return InMemoryUpdateLog()
