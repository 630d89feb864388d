"""The Redis lock store Rasa runs with (rasa_runtime/lock_store.py): tickets stay unique and turns of one
conversation never overlap when several processes take them at the same moment, on a real Redis."""
from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from urllib.parse import urlparse

from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.runtime_config import lock_store as lock_store_config
from rasa_runtime.lock_store import AtomicRedisLockStore

PER_PROCESS = 150


def store(redis_url: str) -> AtomicRedisLockStore:
    config = lock_store_config(redis_url)
    created = LockStore.create(EndpointConfig.from_dict(config))  # as Rasa builds it from endpoints.yml
    assert isinstance(created, AtomicRedisLockStore)
    return created


def at_once(work, processes: int, redis_url: str, conversation: str) -> list:
    """`work(redis_url, conversation, start, out)` in this many processes released at the same moment;
    the lists they put on `out`, joined."""
    start, out = multiprocessing.Event(), multiprocessing.Queue()
    workers = [multiprocessing.Process(target=work, args=(redis_url, conversation, start, out))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    start.set()
    results = [item for _ in workers for item in out.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
    return results


def take_tickets(redis_url: str, conversation: str, start, out) -> None:
    lock_store = store(redis_url)
    start.wait()
    out.put([lock_store.issue_ticket(conversation, 600) for _ in range(PER_PROCESS)])


def test_tickets_taken_at_once_by_three_processes_are_all_different(redis_url):
    conversation = f"lock-test-{uuid.uuid4().hex}"
    tickets = at_once(take_tickets, 3, redis_url, conversation)
    assert len(tickets) == 3 * PER_PROCESS
    assert sorted(tickets) == list(range(3 * PER_PROCESS))  # no number given twice, none skipped
    store(redis_url).delete_lock(conversation)


def hold_turns(redis_url: str, conversation: str, start, out) -> None:
    lock_store = store(redis_url)

    async def turns() -> list[tuple[float, float]]:
        spans = []
        for _ in range(5):
            async with lock_store.lock(conversation, lock_lifetime=60, wait_time_in_seconds=0.01):
                entered = time.monotonic()
                await asyncio.sleep(0.02)
                spans.append((entered, time.monotonic()))
        return spans

    start.wait()
    out.put(asyncio.run(turns()))


def test_turns_of_one_conversation_in_two_processes_never_overlap_and_the_lock_is_removed(redis_url):
    conversation = f"lock-test-{uuid.uuid4().hex}"
    spans = sorted(at_once(hold_turns, 2, redis_url, conversation))
    assert len(spans) == 10
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:]))  # one turn at a time
    assert store(redis_url).get_lock(conversation) is None  # the last one out removed it


def test_cleaning_up_keeps_a_ticket_another_process_took(redis_url):
    lock_store = store(redis_url)
    conversation = f"lock-test-{uuid.uuid4().hex}"
    mine = lock_store.issue_ticket(conversation, 60)
    theirs = lock_store.issue_ticket(conversation, 60)
    lock_store.cleanup(conversation, mine)
    lock = lock_store.get_lock(conversation)
    assert lock is not None and not lock.is_locked(theirs)  # theirs is now served
    lock_store.cleanup(conversation, theirs)
    assert lock_store.get_lock(conversation) is None


def test_the_endpoint_is_the_redis_of_the_settings(redis_url):
    parsed = urlparse(redis_url)
    config = lock_store_config(redis_url)
    assert config["type"] == "rasa_runtime.lock_store.AtomicRedisLockStore"
    assert (config["url"], config["port"]) == (parsed.hostname, parsed.port)
    assert lock_store_config(None) is None
