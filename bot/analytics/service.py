"""The analytics engine: one connection that sees the application tables and Rasa's `events` table
together, the catch-up of the conversation facts before each report, the data version that says when
figures may have changed, and a per-range cache.

SQLite: the tracker store is another file, ATTACHed read-only as schema `tracker` (a missing file is
an empty in-memory stand-in, so the page works before Rasa wrote anything and never creates Rasa's
file). PostgreSQL: the tracker store must be the same database (the same URL), where `events` sits
beside the application's tables; the schema name is translated away.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from bot.accounts.models import ContactOptOut
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.analytics import facts, kpis, queries
from bot.analytics.kpis import Table
from bot.analytics.queries import DayRange
from bot.analytics.sql import EVENTS, TRACKER_SCHEMA
from bot.handoff.models import Escalation
from bot.lifecycle.models import LoanDayStatus
from bot.outreach.models import ContactAttempt
from bot.verification.models import VerifiedSession

MAX_DAYS = 366
CACHE_SIZE = 32


class AnalyticsUnavailable(RuntimeError):
    """The tracker store cannot be read together with the application database."""


@dataclass(frozen=True)
class Report:
    days: DayRange
    grain: str
    version: tuple
    tables: tuple[Table, ...]

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


def _sqlite_file(url: str) -> str | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    return parsed.database or ":memory:"


def reading_engine(database_url: str, tracker_store_url: str) -> tuple[Engine, dict]:
    """An engine over the application database that also sees `tracker.events`; and its execution options."""
    app_file, tracker_file = _sqlite_file(database_url), _sqlite_file(tracker_store_url)
    if app_file is not None:
        engine = sa.create_engine(database_url, future=True, connect_args={"check_same_thread": False, "uri": True,
                                                                           "timeout": 30})
        if tracker_file is not None and Path(tracker_file).resolve() == Path(app_file).resolve():
            return engine, {"schema_translate_map": {TRACKER_SCHEMA: None}}
        if tracker_file is None:
            raise AnalyticsUnavailable("an SQLite application database needs an SQLite tracker store")
        present = tracker_file != ":memory:" and Path(tracker_file).exists()

        @sa.event.listens_for(engine, "connect")
        def attach(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            if present:
                cursor.execute(f"ATTACH DATABASE 'file:{Path(tracker_file).resolve()}?mode=ro' AS {TRACKER_SCHEMA}")
            else:
                cursor.execute(f"ATTACH DATABASE ':memory:' AS {TRACKER_SCHEMA}")
                cursor.execute(str(sa.schema.CreateTable(EVENTS).compile(dialect=engine.dialect)))
            cursor.close()

        return engine, {}
    if make_url(database_url) != make_url(tracker_store_url):
        raise AnalyticsUnavailable("on PostgreSQL the tracker store must be the application database "
                                   "(TRACKER_STORE_URL = DATABASE_URL) for the KPIs to join conversations")
    return sa.create_engine(database_url, future=True, pool_pre_ping=True), {
        "schema_translate_map": {TRACKER_SCHEMA: None}}


def data_version(connection: Connection) -> tuple:
    """Changes whenever a row the KPIs read is added or moves on (cheap: maxima of ids and timestamps)."""
    probes = [
        sa.select(sa.func.max(EVENTS.c.id)).scalar_subquery(),
        sa.select(sa.func.max(Escalation.id)).scalar_subquery(),
        sa.select(sa.func.max(sa.func.coalesce(Escalation.closed_at, Escalation.claimed_at))).scalar_subquery(),
        sa.select(sa.func.max(Escalation.first_agent_reply_at)).scalar_subquery(),
        sa.select(sa.func.count(Escalation.closed_at)).scalar_subquery(),
        sa.select(sa.func.max(VerifiedSession.id)).scalar_subquery(),
        sa.select(sa.func.max(PromiseToPay.id)).scalar_subquery(),
        sa.select(sa.func.max(PromiseToPay.settled_at)).scalar_subquery(),
        sa.select(sa.func.count(PromiseToPay.settled_at)).scalar_subquery(),
        sa.select(sa.func.max(Agreement.id)).scalar_subquery(),
        sa.select(sa.func.max(OfferRecord.id)).scalar_subquery(),
        sa.select(sa.func.max(LoanDayStatus.id)).scalar_subquery(),
        sa.select(sa.func.max(ContactOptOut.id)).scalar_subquery(),
        sa.select(sa.func.max(ContactAttempt.id)).scalar_subquery(),
    ]
    return tuple(str(value) for value in connection.execute(sa.select(*probes)).one())


def build_report(connection: Connection, days: DayRange, grain: str) -> list[Table]:
    """Every KPI table for the range, computed from the database now."""
    all_periods = kpis.periods(days, grain)
    queries.collect_started_conversations(connection, days)
    outcomes = queries.conversation_outcomes(connection)
    return [
        *kpis.conversation_tables(outcomes, grain, all_periods),
        kpis.handoff_table(queries.handoffs_by_reason(connection), outcomes, grain),
        *kpis.kept_promise_tables(queries.settled_promises(connection, days), grain, all_periods),
        *kpis.transition_tables(queries.dpd_transitions(connection, kpis.transition_spans(all_periods)),
                                all_periods),
        kpis.concession_table(queries.concessions_granted(connection, days)),
        *kpis.agent_time_tables(queries.agent_times(connection, days), grain, all_periods),
        *kpis.contact_tables(queries.opt_outs(connection, days), queries.contact_attempts(connection, days),
                             grain, all_periods),
        *kpis.breakdown_tables(outcomes),
    ]


class Analytics:
    """KPI reports for date ranges, cached per (range, grain, data version) in a small in-process LRU."""

    def __init__(self, database_url: str, tracker_store_url: str, *, cache_size: int = CACHE_SIZE) -> None:
        self._urls = (database_url, tracker_store_url)
        self._engine: Engine | None = None
        self._options: dict = {}
        self._cache: OrderedDict[tuple, Report] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._catching_up = threading.Lock()  # one catch-up at a time in this process (the cursor row locks across)
        self.computed = 0  # reports built from the database (the rest came from the cache)

    def _connect(self) -> Connection:
        if self._engine is None:
            self._engine, self._options = reading_engine(*self._urls)
        return self._engine.connect().execution_options(**self._options)

    def report(self, days: DayRange, grain: str) -> Report:
        if grain not in kpis.GRAINS:
            raise ValueError(f"grain is one of {', '.join(kpis.GRAINS)}")
        if (days.last - days.first).days + 1 > MAX_DAYS:
            raise ValueError(f"a range covers at most {MAX_DAYS} days")
        self.catch_up()
        with self._connect() as connection:
            version = data_version(connection)
            key = (days.first, days.last, grain, version)
            with self._lock:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return self._cache[key]
            report = Report(days, grain, version, tuple(build_report(connection, days, grain)))
        with self._lock:
            self.computed += 1
            self._cache[key] = report
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return report
    def catch_up(self) -> int:
        """Fold the tracker events added since the last report into the conversation facts (see `facts`)."""
        with self._catching_up, self._connect() as connection:
            return facts.catch_up(connection)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
