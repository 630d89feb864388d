"""SQL that reads the same on SQLite and PostgreSQL: a day as 'YYYY-MM-DD' text, a JSON field as text,
seconds between two timestamps, and Rasa's `events` table as the schema `tracker`.

Each construct compiles to the dialect's own functions, so a KPI query is written once.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

TRACKER_SCHEMA = "tracker"

# Rasa's SQLTrackerStore table (see rasa_runtime/tracker_store.py): one row per event, `timestamp` in
# Unix seconds, `action_name` holding the slot name of a `slot` event, `data` the event as JSON text.
_tracker_metadata = sa.MetaData()
EVENTS = sa.Table(
    "events", _tracker_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
    schema=TRACKER_SCHEMA,
)


class unix_day(FunctionElement):  # noqa: N801 - used like a SQL function
    """The UTC calendar day of Unix seconds, as 'YYYY-MM-DD'."""

    type = sa.String()
    inherit_cache = True


@compiles(unix_day, "sqlite")
def _unix_day_sqlite(element, compiler, **kw):
    return "date(%s, 'unixepoch')" % compiler.process(element.clauses, **kw)


@compiles(unix_day, "postgresql")
def _unix_day_postgresql(element, compiler, **kw):
    return "to_char(to_timestamp(%s) AT TIME ZONE 'UTC', 'YYYY-MM-DD')" % compiler.process(element.clauses, **kw)


class day_of(FunctionElement):  # noqa: N801
    """The calendar day of a naive UTC timestamp column, as 'YYYY-MM-DD'."""

    type = sa.String()
    inherit_cache = True


@compiles(day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    return "date(%s)" % compiler.process(element.clauses, **kw)


@compiles(day_of, "postgresql")
def _day_of_postgresql(element, compiler, **kw):
    return "to_char(%s, 'YYYY-MM-DD')" % compiler.process(element.clauses, **kw)


class seconds_between(FunctionElement):  # noqa: N801
    """Seconds from the first timestamp to the second (naive UTC columns)."""

    type = sa.Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return "((julianday(%s) - julianday(%s)) * 86400.0)" % (compiler.process(end, **kw),
                                                            compiler.process(start, **kw))


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element, compiler, **kw):
    start, end = list(element.clauses)
    return "EXTRACT(EPOCH FROM (%s - %s))" % (compiler.process(end, **kw), compiler.process(start, **kw))


class json_text(FunctionElement):  # noqa: N801
    """A top-level field of a JSON text column, as text (NULL when absent)."""

    type = sa.String()
    inherit_cache = True


@compiles(json_text, "sqlite")
def _json_text_sqlite(element, compiler, **kw):
    column, key = list(element.clauses)
    return "json_extract(%s, '$.' || %s)" % (compiler.process(column, **kw), compiler.process(key, **kw))


@compiles(json_text, "postgresql")
def _json_text_postgresql(element, compiler, **kw):
    column, key = list(element.clauses)
    return "(CAST(%s AS json) ->> %s)" % (compiler.process(column, **kw), compiler.process(key, **kw))
