"""Rasa's Redis lock store with every change of a lock made atomically.

Rasa 3.6's `RedisLockStore` keeps a conversation's `TicketLock` as one JSON value and changes it by
read, modify, write: two Rasa processes taking a ticket at the same moment both read "no tickets", both
write ticket 0, and both handle the same conversation at once. The tracker store then saves "the events
after those stored", and one turn's events are lost (seen in the scale-out rehearsal, docs/scale-out.md:
a borrower's message missing from the tracker beside the answer to it). Cleaning up had the same race:
deleting the lock could throw away the ticket another process had just taken.

`AtomicRedisLockStore` keeps Rasa's key, value format, ticket rules and waiting loop (`LockStore.lock`),
and makes each change an optimistic Redis transaction (WATCH the key, compute the new lock with Rasa's own
`TicketLock` methods, MULTI/EXEC; retried when another process changed the key in between). Selected by
`bot/runtime_config.py` when `REDIS_URL` is set (`type: rasa_runtime.lock_store.AtomicRedisLockStore`).
"""
from __future__ import annotations

import json
from typing import Callable, Optional, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")
DELETE = object()  # a change's verdict: remove the lock


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket issuing, expiry, finishing and clean-up are atomic."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(self, conversation_id: str,
                change: Callable[[Optional[TicketLock]], tuple[object, T]]) -> T:
        """Apply `change` (old lock -> new lock, DELETE or None for "leave as is"; and a result) atomically."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new, result = change(lock)
                    pipe.multi()
                    if new is DELETE:
                        pipe.delete(key)
                    elif new is not None:
                        pipe.set(key, new.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another process changed the lock in between: compute again from its value

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take(lock: Optional[TicketLock]) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, take)
        except Exception as error:  # noqa: BLE001 - Rasa's contract: any failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def expire(lock: Optional[TicketLock]) -> tuple[object, None]:
            if lock is None:
                return None, None
            lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, expire)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def finish(lock: Optional[TicketLock]) -> tuple[object, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish `ticket_number`, and remove the lock when nobody else holds a ticket: in one step, so a
        ticket taken meanwhile is never deleted with it."""
        def finish_and_tidy(lock: Optional[TicketLock]) -> tuple[object, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else DELETE), None

        self._change(conversation_id, finish_and_tidy)
