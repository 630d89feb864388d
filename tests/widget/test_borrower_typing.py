"""A borrower's typing as the console asks for it: in one process's memory, or shared through Redis so
that a question reaching another Rasa process than the one holding the socket gets the same answer."""
from __future__ import annotations

import asyncio
import os
import uuid

from channels.widget.typing import MemoryTyping, RedisTyping, borrower_typing
from tests.integration.require import require


async def test_in_memory_typing_lasts_its_seconds_unless_stopped():
    now = [100.0]
    typing = MemoryTyping(8.0, clock=lambda: now[0])
    await typing.set("web:a", True)
    assert await typing.is_typing("web:a") and not await typing.is_typing("web:b")
    now[0] += 7.9
    assert await typing.is_typing("web:a")
    now[0] += 0.2  # 8.1 s after the last "typing": stale
    assert not await typing.is_typing("web:a")
    await typing.set("web:a", True)
    await typing.set("web:a", False)
    assert not await typing.is_typing("web:a")


def test_the_store_is_redis_when_a_redis_url_is_configured():
    assert isinstance(borrower_typing("redis://127.0.0.1:6379/0", 8.0), RedisTyping)
    assert isinstance(borrower_typing(None, 8.0), MemoryTyping)


async def test_typing_heard_by_one_process_is_seen_by_another_through_redis():
    url = os.environ.get("TEST_REDIS_URL")
    require(bool(url), "TEST_REDIS_URL is not set: eval \"$(bash scripts/integration_services.sh)\"")
    room = "web:" + uuid.uuid4().hex
    holding_socket, asked_by_console = RedisTyping(url, 1.0), RedisTyping(url, 1.0)  # two Rasa processes
    assert not await asked_by_console.is_typing(room)
    await holding_socket.set(room, True)
    assert await asked_by_console.is_typing(room)
    await holding_socket.set(room, False)
    assert not await asked_by_console.is_typing(room)
    await holding_socket.set(room, True)
    await asyncio.sleep(1.2)  # the key expires on its own, as the in-memory entry does
    assert not await asked_by_console.is_typing(room)


async def test_without_redis_typing_is_not_known_and_nothing_fails():
    typing = RedisTyping("redis://127.0.0.1:1/0", 8.0)  # nothing listens on port 1
    await typing.set("web:a", True)
    assert not await typing.is_typing("web:a")
