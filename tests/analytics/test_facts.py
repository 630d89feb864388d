"""The conversation facts are caught up incrementally: each tracker event is folded once, new ones show at once."""
from __future__ import annotations

import time

import sqlalchemy as sa

from bot.analytics import facts
from bot.analytics.models import ConversationFacts, LanguageSlot
from bot.analytics.queries import DayRange
from bot.analytics.service import Analytics, reading_engine
from bot.analytics.sql import EVENTS
from tests.analytics.dataset import FIRST, LAST, _conversation, at, unix

WEEKS = DayRange(FIRST, LAST)


def add_events(tracker_url: str, rows: list[dict]) -> None:
    engine = sa.create_engine(tracker_url, future=True)
    with engine.begin() as connection:
        connection.execution_options(schema_translate_map={"tracker": None}).execute(
            EVENTS.insert(), [{"intent_name": None, "action_name": None, **row} for row in rows])
    engine.dispose()


def rows(report, key: str) -> list[tuple]:
    return report.table(key).rows


def stored(analytics: Analytics) -> tuple[int, int]:
    with analytics._connect() as connection:
        return (connection.execute(sa.select(sa.func.count()).select_from(ConversationFacts)).scalar_one(),
                connection.execute(sa.select(sa.func.count()).select_from(LanguageSlot)).scalar_one())


def test_catching_up_twice_folds_each_event_once(analytics: Analytics):
    # The dataset's 26 events of which 6 session starts + 1 return, 7 borrower messages, 6 language slots matter.
    assert analytics.catch_up() == 20
    assert analytics.catch_up() == 0
    first = analytics.report(WEEKS, "week")
    analytics.catch_up()
    assert stored(analytics) == (6, 6)  # c1..c6, one language slot each
    assert rows(first, "conversations") == [("2026-W45", 3), ("2026-W46", 1)]
    assert rows(first, "containment") == [("2026-W45", 3, 2, 0.6667, 1, 0.3333, 0.5),
                                          ("2026-W46", 1, 0, 0.0, 0, 0.0, None)]


def test_events_after_a_report_are_in_the_next_report(analytics: Analytics, tracker_url: str):
    before = analytics.report(WEEKS, "week")
    assert rows(before, "conversations") == [("2026-W45", 3), ("2026-W46", 1)]
    # c7 starts on Nov 10 (W46) in English on socketio; c3 (Nov 3 09:00) comes back on Nov 6, within 7 days;
    # c1 switches to Chinese on Nov 25, more than 7 days after the range: its language for this range stays en.
    back, switched = unix(at(11, 6, 9)), unix(at(11, 25))
    add_events(tracker_url, [
        *_conversation("c7", at(11, 10, 8), "en", "socketio"),
        {"sender_id": "c3", "type_name": "session_started", "timestamp": back, "data": "{}"},
        {"sender_id": "c1", "type_name": "slot", "timestamp": switched, "action_name": "language",
         "data": '{"event": "slot", "name": "language", "value": "zh"}'},
    ])
    after = analytics.report(WEEKS, "week")
    assert analytics.computed == 2
    assert rows(after, "conversations") == [("2026-W45", 3), ("2026-W46", 2)]
    # W45: c1 and c3 came back -> 2/3; of the 2 contained (c1, c3) both -> 1.0. W46: c7 contained -> 1/2.
    assert rows(after, "containment") == [("2026-W45", 3, 2, 0.6667, 2, 0.6667, 1.0),
                                          ("2026-W46", 2, 1, 0.5, 0, 0.0, 0.0)]
    assert [row[:2] for row in rows(after, "by_language")] == [("en", 3), ("zh", 2)]
    assert [row[:2] for row in rows(after, "by_channel")] == [("socketio", 3), ("telegram", 2)]
    assert analytics.catch_up() == 0


def test_a_catch_up_in_small_batches_gives_the_same_report(desk, tracker_url: str):
    engine, options = reading_engine(desk.url, tracker_url)
    with engine.connect().execution_options(**options) as connection:
        assert facts.catch_up(connection, batch=3) == 20
    engine.dispose()
    batched = Analytics(desk.url, tracker_url)
    try:
        report = batched.report(WEEKS, "week")
    finally:
        batched.dispose()
    assert rows(report, "conversations") == [("2026-W45", 3), ("2026-W46", 1)]
    assert rows(report, "containment") == [("2026-W45", 3, 2, 0.6667, 1, 0.3333, 0.5),
                                           ("2026-W46", 1, 0, 0.0, 0, 0.0, None)]
    assert [row[:2] for row in rows(report, "by_language")] == [("en", 2), ("zh", 2)]


def test_fold_keeps_the_first_start_and_message_and_the_latest_language():
    events = [facts.TrackerEvent(1, "c", "session_started", 1000.0, None),
              facts.TrackerEvent(2, "c", "user", 1001.0, "telegram"),
              facts.TrackerEvent(3, "c", "slot", 1002.0, "en"),
              facts.TrackerEvent(4, "c", "session_started", 1030.0, None),   # 30 s later: the same visit
              facts.TrackerEvent(5, "c", "user", 1031.0, "socketio"),
              facts.TrackerEvent(6, "c", "slot", 1032.0, "zh")]
    touched, slots = facts.fold({}, events[:3])
    assert not touched["c"].returned
    touched, more = facts.fold(touched, events[3:])
    row = touched["c"]
    assert (row.started_event_id, row.started_at, row.returned) == (1, 1000.0, False)
    assert (row.channel, row.language, row.last_event_id) == ("telegram", "zh", 6)
    assert [e.id for e in slots + more] == [3, 6]
    touched, _ = facts.fold(touched, [facts.TrackerEvent(7, "c", "session_started", 1000.0 + 3 * 86400, None)])
    assert touched["c"].returned


def _started(event_id: int, conversation: str, timestamp: float) -> dict:
    return {"id": event_id, "sender_id": conversation, "type_name": "session_started", "timestamp": timestamp,
            "data": "{}"}


def test_an_id_still_in_flight_is_waited_for_and_a_long_missing_one_is_passed(analytics: Analytics, tracker_url):
    """Two Rasa processes on PostgreSQL: id 28 is committed while 27 is still in flight. Folding 28 would move
    the cursor past 27 for good, so the catch-up waits for 27 until the event after it is SETTLE_SECONDS old."""
    assert analytics.catch_up() == 20  # the dataset's 26 events, ids 1-26
    now = time.time()
    add_events(tracker_url, [_started(28, "late-b", now - 5)])
    assert analytics.catch_up() == 0  # 27 missing, 28 recent: wait
    add_events(tracker_url, [_started(27, "late-a", now - 6)])  # the slower transaction commits
    assert analytics.catch_up() == 2
    # A gap whose next event is older than the settle time was a rollback or an erasure: passed.
    add_events(tracker_url, [_started(40, "after-rollback", now - facts.SETTLE_SECONDS - 1)])
    assert analytics.catch_up() == 1
    with analytics._connect() as connection:
        folded = set(connection.execute(sa.select(ConversationFacts.conversation_id)).scalars())
    assert {"late-a", "late-b", "after-rollback"} <= folded


def test_the_settled_horizon_stops_before_the_first_recent_gap(analytics: Analytics, tracker_url):
    add_events(tracker_url, [_started(100, "a", 1000.0), _started(101, "b", 1001.0), _started(103, "c", 5000.0),
                             _started(104, "d", 5001.0), _started(107, "e", 9000.0)])
    with analytics._connect() as connection:
        assert facts.settled_up_to(connection, 99, 107, now=5100.0) == 101     # 102 missing, 103 is 100 s old
        assert facts.settled_up_to(connection, 99, 107, now=5200.0) == 104     # 102 passed; 105-106 missing, 107 recent
        assert facts.settled_up_to(connection, 99, 107, now=9200.0) == 107
        assert facts.settled_up_to(connection, 101, 107, now=5100.0) == 101    # nothing settled after the cursor
