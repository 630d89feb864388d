"""The same hand-built desk on a real PostgreSQL (tracker store = the application database there)."""
from __future__ import annotations

import pytest

from bot.analytics.queries import DayRange
from bot.analytics.service import Analytics
from bot.analytics.sql import EVENTS
from tests.analytics.dataset import FIRST, LAST, _conversation, at, write_books, write_tracker
from tests.integration.conftest import pg_database, postgres_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


def test_every_kpi_family_gives_the_hand_worked_figures_on_postgres(pg_database):  # noqa: F811
    with pg_database.engine.begin() as connection:
        write_tracker(connection.execution_options(schema_translate_map={"tracker": None}))
    with pg_database.unit_of_work() as session:
        write_books(session)
    analytics = Analytics(pg_database.url, pg_database.url)
    try:
        report = analytics.report(DayRange(FIRST, LAST), "week")
        # A conversation started after that report (W46, socketio) is in the next one; nothing is counted twice.
        with pg_database.engine.begin() as connection:
            connection.execution_options(schema_translate_map={"tracker": None}).execute(
                EVENTS.insert(), [{"intent_name": None, "action_name": None, **row}
                                  for row in _conversation("c7", at(11, 10, 8), "en", "socketio")])
        later = analytics.report(DayRange(FIRST, LAST), "week")
        assert analytics.catch_up() == 0
    finally:
        analytics.dispose()
    assert later.table("conversations").rows == [("2026-W45", 3), ("2026-W46", 2)]
    assert later.table("containment").rows == [("2026-W45", 3, 2, 0.6667, 1, 0.3333, 0.5),
                                               ("2026-W46", 2, 1, 0.5, 0, 0.0, 0.0)]

    def rows(key: str) -> list[tuple]:
        return report.table(key).rows

    # The figures of tests/analytics/test_kpis.py, worked out there.
    assert rows("verification") == [("2026-W45", 3, 2, 0.6667), ("2026-W46", 1, 1, 1.0)]
    assert rows("containment") == [("2026-W45", 3, 2, 0.6667, 1, 0.3333, 0.5), ("2026-W46", 1, 0, 0.0, 0, 0.0, None)]
    assert rows("handoffs") == [("2026-W45", "request_human", 1, 3, 0.3333), ("2026-W46", "hardship", 1, 1, 1.0)]
    assert rows("kept_promises") == [("2026-W45", 1, 1, 0, 0, 1.0), ("2026-W46", 2, 0, 1, 1, 0.0)]
    assert rows("cure") == [("2026-W45", 2, 1, 0.5), ("2026-W46", 2, 1, 0.5)]
    assert rows("roll_forward") == [("2026-W45", 3, 1, 0.3333), ("2026-W46", 3, 1, 0.3333)]
    assert rows("concessions") == [("bot", "R1", "2026.12-4", 1, "12.50", "30.00"),
                                   ("supervisor", "R2", "2026.12-4", 1, "0.00", "100.05")]
    assert rows("agent_times") == [("2026-W45", 1, 1, 120.0, 1, 1800.0), ("2026-W46", 1, 1, 600.0, 0, None)]
    assert rows("contact_policy") == [("2026-W45", 1, 2, 1, 0.5), ("2026-W46", 2, 2, 1, 0.5)]
    assert [row[:2] for row in rows("by_language")] == [("en", 2), ("zh", 2)]
