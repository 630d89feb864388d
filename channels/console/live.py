"""Live updates for the console: one watcher per web-app process, and the SSE stream agents listen on.

The watcher wakes every second (`TICK_SECONDS`) and runs, off the event loop:
- one query on the escalations (the open ones and those closed in the last minute), compared with
  what it saw last time: a new id, or a changed status, holder, reason or priority, becomes a
  "queue" event;
- one range query on Rasa's tracker store (`events` table: id, sender_id, type_name, timestamp,
  data) for rows after the last id it read, of the conversations with an open escalation (up to the
  first id not yet visible, `bot.analytics.facts.settled_up_to`: with several Rasa processes on one
  PostgreSQL store, ids can become visible out of order, and reading past one would lose it). A
  borrower's message is stored on the escalation (`last_borrower_text`, `last_borrower_at`, for
  the queue row and search) and becomes a "message" event.
It never fetches a tracker through Rasa's HTTP API. On its first tick it starts from the newest
row (history is not replayed as news).

Events name escalations by number only: the conversation id (on the web widget, the borrower's
credential) never goes out. A "message" reaches an agent only for an escalation they may read
(waiting, theirs, or any for a supervisor).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Callable

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy import or_, select

from bot.analytics.facts import settled_up_to
from bot.analytics.sql import TRACKER_SCHEMA
from bot.handoff.models import CLOSED, SUPERVISOR, WAITING, Escalation
from bot.handoff.queue import PREVIEW_CHARS, EscalationQueue
from bot.storage import Database

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
PING_SECONDS = 15.0
CLOSED_WINDOW = timedelta(minutes=1)
MAX_ROWS_PER_TICK = 1000
SUBSCRIBER_BACKLOG = 200
EXTERNAL = "/EXTERNAL"


def _utc(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, tz=timezone.utc).replace(tzinfo=None)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds") + "Z"


class TrackerEvents:
    """Reads Rasa's tracker-store `events` table directly (read-only)."""

    def __init__(self, url: str) -> None:
        args = {"connect_args": {"check_same_thread": False, "timeout": 5}} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, **args)
        self._warned = False

    def newest_id(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT coalesce(max(id), 0) FROM events")).scalar_one())

    def settled(self, last_id: int, newest: int) -> int:
        """The highest id after `last_id` that can be read without passing an id still in flight."""
        with self.engine.connect() as connection:
            plain = connection.execution_options(schema_translate_map={TRACKER_SCHEMA: None})
            return settled_up_to(plain, last_id, newest, time.time())

    def after(self, last_id: int, upto: int, sender_ids: list[str]) -> list[sa.Row]:
        """Rows with last_id < id <= upto of these conversations, oldest first."""
        if not sender_ids or upto <= last_id:
            return []
        statement = sa.text(
            "SELECT id, sender_id, type_name, timestamp, data FROM events "
            "WHERE id > :last AND id <= :upto AND sender_id IN :senders ORDER BY id LIMIT :limit"
        ).bindparams(sa.bindparam("senders", expanding=True))
        with self.engine.connect() as connection:
            return list(connection.execute(statement, {"last": last_id, "upto": upto, "senders": sender_ids,
                                                       "limit": MAX_ROWS_PER_TICK}))

    def unread(self, sender_ids: list[str]) -> dict[str, int]:
        """Borrower messages since the latest agent reply or pause (the handoff) of each conversation."""
        if not sender_ids:
            return {}
        statement = sa.text(
            "SELECT u.sender_id, count(*) FROM events u WHERE u.sender_id IN :senders AND u.type_name = 'user' "
            "AND u.data NOT LIKE '%\"text\": \"/EXTERNAL%' AND u.id > coalesce((SELECT max(b.id) FROM events b "
            "WHERE b.sender_id = u.sender_id AND (b.type_name = 'pause' OR (b.type_name = 'bot' "
            "AND b.data LIKE '%\"agent_name\"%'))), 0) GROUP BY u.sender_id"
        ).bindparams(sa.bindparam("senders", expanding=True))
        try:
            with self.engine.connect() as connection:
                return {sender: int(count) for sender, count in connection.execute(statement, {"senders": sender_ids})}
        except sa.exc.SQLAlchemyError as exc:  # no tracker store yet: nothing is unread
            if not self._warned:
                log.warning("unread counts unavailable (tracker store: %s)", type(exc).__name__)
                self._warned = True
            return {}

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass(eq=False)  # each tab is its own subscriber (hashed by identity)
class Subscriber:
    username: str
    role: str
    events: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_BACKLOG))


@dataclass(frozen=True)
class Seen:
    status: str
    claimed_by: str | None
    reason: str
    priority: int


class LiveHub:
    """The watcher and the SSE subscribers of one web-app process."""

    def __init__(self, database: Callable[[], Database], tracker_store_url: str, *,
                 tick_seconds: float = TICK_SECONDS, clock: Callable[[], datetime] | None = None) -> None:
        self._database = database
        self.tracker = TrackerEvents(tracker_store_url)
        self.tick_seconds = tick_seconds
        self._clock = clock or (lambda: datetime.now(timezone.utc).replace(tzinfo=None))
        self._seen: dict[int, Seen] | None = None
        self._last_id: int | None = None
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task | None = None
        self._failing_since: float | None = None
        self._tracker_failing_since: float | None = None

    # -- the watcher -----------------------------------------------------------------
    def tick(self) -> list[tuple[str, dict[str, Any]]]:
        """One look at the escalations and the tracker store; the events to push (blocking)."""
        now = self._clock()
        with self._database().unit_of_work() as s:
            rows = s.execute(
                select(Escalation.id, Escalation.status, Escalation.claimed_by, Escalation.reason,
                       Escalation.priority, Escalation.conversation_id)
                .where(or_(Escalation.status != CLOSED, Escalation.closed_at >= now - CLOSED_WINDOW))
            ).all()
        out: list[tuple[str, dict[str, Any]]] = []
        current = {r.id: Seen(r.status, r.claimed_by, r.reason, r.priority) for r in rows}
        if self._seen is not None:
            for escalation_id, seen in current.items():
                if self._seen.get(escalation_id) != seen and not (
                        escalation_id not in self._seen and seen.status == CLOSED):
                    out.append(("queue", {"id": escalation_id, "status": seen.status, "claimed_by": seen.claimed_by,
                                          "reason": seen.reason, "priority": seen.priority}))
        self._seen = current
        open_conversations = {r.conversation_id: r.id for r in rows if r.status != CLOSED}
        try:
            out += self._borrower_messages(open_conversations)
        except sa.exc.SQLAlchemyError as exc:  # no tracker store yet (or it is down): queue changes still go out
            if self._tracker_failing_since is None or time.monotonic() - self._tracker_failing_since > 60:
                log.warning("console watcher: tracker store unreadable: %s", type(exc).__name__)
                self._tracker_failing_since = time.monotonic()
        else:
            self._tracker_failing_since = None
        return out

    def _borrower_messages(self, open_conversations: dict[str, int]) -> list[tuple[str, dict[str, Any]]]:
        newest = self.tracker.newest_id()
        if self._last_id is None:
            self._last_id = newest
            return []
        upto = self.tracker.settled(self._last_id, newest) if newest > self._last_id else newest
        rows = self.tracker.after(self._last_id, upto, sorted(open_conversations))
        self._last_id = rows[-1].id if len(rows) == MAX_ROWS_PER_TICK else upto
        messages = []
        for row in rows:
            if row.type_name != "user":
                continue
            try:
                text = json.loads(row.data).get("text") or ""
            except (ValueError, AttributeError):
                continue
            if not text or text.startswith(EXTERNAL):
                continue
            at = _utc(row.timestamp)
            with self._database().unit_of_work() as s:
                escalation_id = EscalationQueue(s).record_borrower_message(row.sender_id, text, at)
            if escalation_id is not None:
                messages.append(("message", {"id": escalation_id, "at": _iso(at), "text_preview": text[:PREVIEW_CHARS]}))
        return messages

    async def _watch(self) -> None:
        while True:
            try:
                events = await anyio.to_thread.run_sync(self.tick)
                self._failing_since = None
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive a bad tick (e.g. no tracker store yet)
                if self._failing_since is None or time.monotonic() - self._failing_since > 60:
                    log.warning("console watcher: %s: %s", type(exc).__name__, exc)
                    self._failing_since = time.monotonic()
                events = []
            for name, data in events:
                self.publish(name, data)
            await asyncio.sleep(self.tick_seconds)

    def start(self) -> None:
        """Start the watcher on the running event loop, once per loop (idempotent)."""
        if self._task is None or self._task.done() or self._task.get_loop() is not asyncio.get_running_loop():
            self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await self._task
            self._task = None
        self.tracker.dispose()

    # -- subscribers -------------------------------------------------------------------
    def _may_see(self, subscriber: Subscriber, name: str, data: dict[str, Any]) -> bool:
        if name != "message" or subscriber.role == SUPERVISOR:
            return True
        seen = (self._seen or {}).get(data["id"])
        return seen is not None and (seen.status == WAITING or seen.claimed_by == subscriber.username)

    def publish(self, name: str, data: dict[str, Any]) -> None:
        for subscriber in list(self._subscribers):
            if self._may_see(subscriber, name, data):
                with contextlib.suppress(asyncio.QueueFull):  # a stalled tab misses events; it reloads on reconnect
                    subscriber.events.put_nowait((name, data))

    def subscribe(self, username: str, role: str) -> Subscriber:
        subscriber = Subscriber(username, role)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


def sse(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def event_stream(hub: LiveHub, subscriber: Subscriber, is_disconnected: Callable[[], Any], *,
                       ping_seconds: float = PING_SECONDS) -> AsyncIterator[str]:
    """The SSE body for one tab: events as they come, a ping every `ping_seconds`, until the client leaves."""
    loop = asyncio.get_running_loop()
    last_ping = loop.time()
    try:
        yield "retry: 3000\n\n"
        while not await is_disconnected():
            try:
                name, data = await asyncio.wait_for(subscriber.events.get(), timeout=1.0)
            except asyncio.TimeoutError:
                if loop.time() - last_ping >= ping_seconds:
                    last_ping = loop.time()
                    yield sse("ping", {"at": _iso(datetime.now(timezone.utc).replace(tzinfo=None))})
                continue
            yield sse(name, data)
    finally:
        hub.unsubscribe(subscriber)
