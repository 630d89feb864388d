"""Remembers which Telegram update ids were already handled, and which are being handled now.

Telegram redelivers an update when the webhook answered late or not with 2xx,
so the same ``update_id`` can arrive twice (even concurrently). An update goes
through three states:

- **claimed** (``claim()``): one delivery holds it for a short in-flight lease
  (``DEFAULT_LEASE_SECONDS``). A redelivery meanwhile is told "in progress"
  (the webhook answers 503, so Telegram comes back later) instead of running
  a second, concurrent turn;
- **done** (``done()``): processing succeeded; a redelivery within the long TTL
  (Telegram keeps updates for 24 hours) is dropped;
- **released** (``release()``): processing failed; the next delivery runs it.

Marking an update seen on arrival (what this module did before) lost the
borrower's message whenever the process died mid-turn: Telegram redelivered
it and the redelivery was dropped. Now a claim whose lease ran out, or whose
claiming process is gone, is taken over by the redelivery.
"""
from __future__ import annotations

import enum
import logging
import os
import socket
import time
import uuid
from collections import OrderedDict
from typing import Any, Callable, Optional, Protocol

logger = logging.getLogger(__name__)

# Telegram keeps undelivered updates for 24 hours; a redelivery is never older.
DEFAULT_TTL_SECONDS = 24 * 60 * 60
# Longer than any turn (Rasa answers in seconds; the webhook proxy gives up after 60 s).
DEFAULT_LEASE_SECONDS = 60
DEFAULT_MAX_ENTRIES = 10_000
DONE = "done"
IN_PROGRESS = "in-progress"


class Claim(enum.Enum):
    """What a delivery of an update may do."""

    PROCESS = "process"          # first delivery, or the earlier claim lapsed: handle it
    IN_PROGRESS = "in_progress"  # another delivery is handling it now: ask Telegram to come back
    DONE = "done"                # already handled: drop it


class UpdateLog(Protocol):
    """Claims an update for processing, then records how processing ended."""

    async def claim(self, update_id: int) -> Claim:
        ...  # pragma: no cover

    async def done(self, update_id: int) -> None:
        ...  # pragma: no cover

    async def release(self, update_id: int) -> None:
        ...  # pragma: no cover


def process_identity() -> str:
    """Who holds a claim: host, pid and a per-start nonce (a reused pid is not the same process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_NONCE}"


_NONCE = uuid.uuid4().hex[:12]


def holder_is_gone(holder: str) -> bool:
    """True when `holder` is a process on this host that no longer runs.

    Only a local process can be checked; a claim held on another host lapses with its lease.
    """
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit() or holder == process_identity():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, as another user
    return False


class InMemoryUpdateLog:
    """A per-process log of update ids, bounded in size and age (oldest evicted first) (enough for one Rasa replica)."""

    def __init__(
        self,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._ttl = ttl_seconds
        self._lease = min(lease_seconds, ttl_seconds)
        self._max_entries = max_entries
        self._clock = clock
        self._entries: "OrderedDict[int, tuple[str, float]]" = OrderedDict()  # id -> (state, expires at)

    def _forget_expired(self, now: float) -> None:
        while self._entries:
            oldest_id, (_state, expires_at) = next(iter(self._entries.items()))
            if expires_at > now and len(self._entries) < self._max_entries:
                break
            del self._entries[oldest_id]

    async def claim(self, update_id: int) -> Claim:
        now = self._clock()
        self._forget_expired(now)
        entry = self._entries.get(update_id)
        if entry is not None and entry[1] > now:  # (a lapsed lease can sit behind newer entries)
            return Claim.DONE if entry[0] == DONE else Claim.IN_PROGRESS
        self._entries.pop(update_id, None)
        self._entries[update_id] = (IN_PROGRESS, now + self._lease)
        return Claim.PROCESS

    async def done(self, update_id: int) -> None:
        self._entries.pop(update_id, None)
        self._entries[update_id] = (DONE, self._clock() + self._ttl)

    async def release(self, update_id: int) -> None:
        self._entries.pop(update_id, None)


class RedisUpdateLog:
    """The same log shared by all replicas: ``SET key "in-progress <holder>" NX EX lease``, then ``done``.

    If Redis is unreachable the update is processed (a rare duplicate answer is
    better than a borrower's message silently lost).
    """

    def __init__(self, client: Any, namespace: str, ttl_seconds: int = DEFAULT_TTL_SECONDS,
                 lease_seconds: int = DEFAULT_LEASE_SECONDS) -> None:
        self._client = client
        self._namespace = namespace
        self._ttl = int(ttl_seconds)
        self._lease = int(min(lease_seconds, ttl_seconds))

    @classmethod
    def from_url(cls, url: str, namespace: str) -> "RedisUpdateLog":
        import redis.asyncio as redis_asyncio  # only needed when REDIS_URL is set

        return cls(redis_asyncio.from_url(url), namespace)

    def _key(self, update_id: int) -> str:
        return f"telegram:update:{self._namespace}:{update_id}"

    async def claim(self, update_id: int) -> Claim:
        key = self._key(update_id)
        mine = f"{IN_PROGRESS} {process_identity()}"
        try:
            if await self._client.set(key, mine, nx=True, ex=self._lease):
                return Claim.PROCESS
            value = await self._client.get(key)
            state = value.decode() if isinstance(value, bytes) else (value or "")
            if state == DONE or state == "1":  # "1": how an update was marked before the lease existed
                return Claim.DONE
            if not state:  # the lease lapsed between the two calls
                return await self.claim(update_id)
            holder = state.partition(" ")[2]
            # Only one redelivery may take over a dead holder's claim: the first to create this key.
            if holder_is_gone(holder) and await self._client.set(f"{key}:takeover:{holder}", "1", nx=True,
                                                                 ex=self._lease):
                logger.warning("telegram.dedup.claim_taken_over update_id=%s from=%s", update_id, holder)
                await self._client.set(key, mine, ex=self._lease)
                return Claim.PROCESS
            return Claim.IN_PROGRESS
        except Exception:  # noqa: BLE001 - any Redis failure must not drop the message
            logger.warning("telegram.dedup.redis_unavailable update_id=%s", update_id, exc_info=True)
            return Claim.PROCESS

    async def done(self, update_id: int) -> None:
        try:
            await self._client.set(self._key(update_id), DONE, ex=self._ttl)
        except Exception:  # noqa: BLE001 - the turn is over; at worst a redelivery is answered again
            logger.warning("telegram.dedup.redis_unavailable update_id=%s", update_id, exc_info=True)

    async def release(self, update_id: int) -> None:
        try:
            await self._client.delete(self._key(update_id))
        except Exception:  # noqa: BLE001 - the lease lapses by itself
            logger.warning("telegram.dedup.redis_unavailable update_id=%s", update_id, exc_info=True)


def update_log_from_env(namespace: str, redis_url: Optional[str] = None) -> UpdateLog:
    """Redis when ``REDIS_URL`` is set, the in-process log otherwise.

    ``namespace`` separates bots sharing one Redis (update ids are per bot).
    """
    redis_url = redis_url if redis_url is not None else os.environ.get("REDIS_URL", "")
    if redis_url:
        return RedisUpdateLog.from_url(redis_url, namespace)
    return InMemoryUpdateLog()
