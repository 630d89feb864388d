"""The conversation facts are caught up incrementally: each tracker event is folded once, new ones show at once."""
from __future__ import annotations

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
