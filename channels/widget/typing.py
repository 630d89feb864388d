"""Which web-widget borrowers are typing now, as the console asks for it.

A borrower's socket, and so their "typing" events, lives in one Rasa process; the console's question
("is the borrower typing?", `GET /webhooks/socketio/typing`) may reach another process behind the load
balancer. With Redis configured (the same `redis_url` the socket.io manager uses) the state is a Redis key
that expires on its own, so every process answers alike; without it, this process's memory, which is
right for a single Rasa process. Typing is a courtesy: a Redis error answers "not typing", never fails.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Optional, Protocol

import redis
import redis.asyncio

logger = logging.getLogger(__name__)
KEY_PREFIX = "debtassistant:borrower-typing:"


class BorrowerTyping(Protocol):
    async def set(self, room: str, typing: bool) -> None: ...

    async def is_typing(self, room: str) -> bool: ...


class MemoryTyping:
    """This process's borrowers typing: room -> until (monotonic clock), stale entries dropped when read."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.until: dict[str, float] = {}

    async def set(self, room: str, typing: bool) -> None:
        if typing:
            self.until[room] = self.clock() + self.seconds
        else:
            self.until.pop(room, None)

    async def is_typing(self, room: str) -> bool:
        now = self.clock()
        for stale in [r for r, until in self.until.items() if until < now]:
            del self.until[stale]
        return room in self.until


class RedisTyping:
    """Borrowers typing, as Redis keys with an expiry: shared by every Rasa process."""

    def __init__(self, url: str, seconds: float) -> None:
        self.url, self.seconds = url, seconds
        self._client: Optional[redis.asyncio.Redis] = None

    def _redis(self) -> redis.asyncio.Redis:
        # Made on first use, in the worker process that uses it (Sanic forks workers after start-up).
        if self._client is None:
            self._client = redis.asyncio.from_url(self.url)
        return self._client

    async def set(self, room: str, typing: bool) -> None:
        try:
            if typing:
                await self._redis().set(KEY_PREFIX + room, "1", px=int(self.seconds * 1000))
            else:
                await self._redis().delete(KEY_PREFIX + room)
        except redis.RedisError as exc:
            logger.warning("borrower typing not shared (Redis: %s)", type(exc).__name__)

    async def is_typing(self, room: str) -> bool:
        try:
            return bool(await self._redis().exists(KEY_PREFIX + room))
        except redis.RedisError as exc:
            logger.warning("borrower typing unknown (Redis: %s)", type(exc).__name__)
            return False


def borrower_typing(redis_url: Optional[str], seconds: float) -> BorrowerTyping:
    """Shared through Redis when configured, else this process's memory."""
    return RedisTyping(redis_url, seconds) if redis_url else MemoryTyping(seconds)
