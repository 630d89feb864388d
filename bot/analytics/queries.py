"""The KPI statements: each reads one family of facts for a date range and returns plain daily rows.

Rows are grouped by UTC day (and by whatever else the family is broken down by); `kpis` rolls days
into weeks and turns sums into rates. Every statement is SQLAlchemy Core over the application's
tables plus Rasa's `events` table (schema `tracker`, see `service` for how it is attached), and runs
unchanged on SQLite and PostgreSQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.accounts.models import ContactOptOut
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.analytics.sql import EVENTS, day_of, json_text, seconds_between, unix_day
from bot.handoff.models import Escalation
from bot.lifecycle.models import LoanDayStatus
from bot.outreach.models import ATTEMPT_REFUSED, ContactAttempt
from bot.verification.models import VerifiedSession

UNKNOWN = "unknown"
SESSION_STARTED = "session_started"
RETURN_AFTER_SECONDS = 60          # a session_started this soon after the start is the same visit
REPEAT_WINDOW_SECONDS = 7 * 86400  # repeat contact: the borrower is back within 7 days
SETTLED = ("kept", "partly_kept", "broken")
DPD_BUCKETS = ("current", "1-29", "30-59", "60-89", "90+")


@dataclass(frozen=True)
class DayRange:
    """Whole UTC days from `first` to `last`, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("the range ends before it starts")

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time())

    @property
    def until(self) -> datetime:
        """The first instant after the range (exclusive bound)."""
        return datetime.combine(self.last + timedelta(days=1), time())

    @property
    def unix_since(self) -> float:
        return self.since.replace(tzinfo=timezone.utc).timestamp()

    @property
    def unix_until(self) -> float:
        return self.until.replace(tzinfo=timezone.utc).timestamp()


def _flag(condition) -> sa.sql.ColumnElement:
    return sa.case((condition, 1), else_=0)


def _conversation_language(conversation_id) -> sa.sql.ColumnElement:
    """The conversation's latest `language` slot value (one index lookup by sender_id)."""
    slot = EVENTS.alias("language_slot")
    return sa.func.coalesce(
        sa.select(json_text(slot.c.data, "value"))
        .where(slot.c.sender_id == conversation_id, slot.c.type_name == "slot", slot.c.action_name == "language")
        .order_by(slot.c.id.desc()).limit(1).scalar_subquery(), UNKNOWN)


def _conversation_channel(conversation_id) -> sa.sql.ColumnElement:
    """The input channel of the conversation's first borrower message."""
    message = EVENTS.alias("first_message")
    return sa.func.coalesce(
        sa.select(json_text(message.c.data, "input_channel"))
        .where(message.c.sender_id == conversation_id, message.c.type_name == "user")
        .order_by(message.c.id).limit(1).scalar_subquery(), UNKNOWN)


# The conversations started in the range, worked out once per report into a temporary table (it lives
# and dies with the report's transaction) that every conversation KPI then joins.
STARTED = sa.Table(
    "analytics_started", sa.MetaData(),
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("started", sa.Float, nullable=False),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("language", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(255), nullable=False),
    sa.Column("returned", sa.Integer, nullable=False),
    prefixes=["TEMPORARY"],
)


def collect_started_conversations(connection: Connection, days: DayRange) -> int:
    """Fill STARTED for the range; returns how many conversations started in it.

    A conversation starts with its first `session_started` event (Rasa writes one before anything else a
    conversation says, and one more each time the borrower comes back after the session expired). The
    steps keep to what Rasa's table is indexed by (sender_id, and id, which is in that index):
      1. `session_started` events in the range with no earlier `session_started` of the same conversation;
      2. over those conversations' events up to 7 days after the range: the latest language slot, the
         first borrower message, and whether a later session started within 7 days (the borrower came back);
      3. the language and channel read from those two events' JSON, by id."""
    STARTED.drop(connection, checkfirst=True)
    STARTED.create(connection)
    # The events that can matter, in one sequential pass over the table (Rasa indexes only sender_id):
    # from the range's start to 7 days after its end, session starts, borrower messages, language slots.
    # Materialized, so the steps below join a small set instead of walking the sender index per event.
    window = (
        sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp)
        .where(EVENTS.c.timestamp >= days.unix_since, EVENTS.c.timestamp < days.unix_until + REPEAT_WINDOW_SECONDS,
               sa.or_(EVENTS.c.type_name.in_((SESSION_STARTED, "user")),
                      sa.and_(EVENTS.c.type_name == "slot", EVENTS.c.action_name == "language")))
        .cte("window_events").prefix_with("MATERIALIZED"))
    earlier = EVENTS.alias("earlier_session")
    firsts = (
        sa.select(window.c.sender_id.label("conversation_id"), window.c.timestamp.label("started"))
        .where(window.c.type_name == SESSION_STARTED, window.c.timestamp < days.unix_until,
               ~sa.exists().where(earlier.c.sender_id == window.c.sender_id, earlier.c.id < window.c.id,
                                  earlier.c.type_name == SESSION_STARTED))
        .cte("firsts").prefix_with("MATERIALIZED"))
    event = window.alias("event")
    is_language = event.c.type_name == "slot"
    came_back = sa.and_(event.c.type_name == SESSION_STARTED,
                        event.c.timestamp > firsts.c.started + RETURN_AFTER_SECONDS,
                        event.c.timestamp <= firsts.c.started + REPEAT_WINDOW_SECONDS)
    facts = (
        sa.select(firsts.c.conversation_id, firsts.c.started,
                  sa.func.max(sa.case((is_language, event.c.id))).label("language_event"),
                  sa.func.min(sa.case((event.c.type_name == "user", event.c.id))).label("first_message"),
                  sa.func.max(_flag(came_back)).label("returned"))
        .select_from(firsts.join(event, event.c.sender_id == firsts.c.conversation_id))
        .group_by(firsts.c.conversation_id, firsts.c.started)
        .subquery("facts"))
    language_slot = EVENTS.alias("language_slot")
    message = EVENTS.alias("first_message")
    language = sa.select(json_text(language_slot.c.data, "value")).where(
        language_slot.c.id == facts.c.language_event).scalar_subquery()
    channel = sa.select(json_text(message.c.data, "input_channel")).where(
        message.c.id == facts.c.first_message).scalar_subquery()
    rows = sa.select(facts.c.conversation_id, facts.c.started, unix_day(facts.c.started),
                     sa.func.coalesce(language, UNKNOWN), sa.func.coalesce(channel, UNKNOWN), facts.c.returned)
    connection.execute(STARTED.insert().from_select(
        ["conversation_id", "started", "day", "language", "channel", "returned"], rows))
    return connection.execute(sa.select(sa.func.count()).select_from(STARTED)).scalar_one()


def _conversations_in(column) -> sa.sql.Subquery:
    """The distinct conversation ids of a table, joined once (SQLite indexes the result on the fly)."""
    return sa.select(column.label("conversation_id")).distinct().subquery()


def conversation_outcomes(connection: Connection) -> list[dict]:
    """Per day, language and channel of start: conversations started (STARTED) and what became of them."""
    started = STARTED
    cid = started.c.conversation_id
    # verified_sessions and escalations are indexed by conversation: one probe per conversation. Promises
    # and agreements are not: their conversation ids are gathered once and joined.
    verified = sa.exists().where(VerifiedSession.conversation_id == cid)
    contained = ~sa.exists().where(Escalation.conversation_id == cid)
    promised_ids = _conversations_in(PromiseToPay.conversation_id)
    agreed_ids = _conversations_in(Agreement.conversation_id)
    promised = promised_ids.c.conversation_id.isnot(None)
    agreed = agreed_ids.c.conversation_id.isnot(None)
    returned = started.c.returned == 1
    statement = (
        sa.select(started.c.day, started.c.language, started.c.channel,
                  sa.func.count().label("conversations"),
                  sa.func.sum(_flag(verified)).label("verified"),
                  sa.func.sum(_flag(contained)).label("contained"),
                  sa.func.sum(_flag(returned)).label("returned"),
                  sa.func.sum(_flag(sa.and_(contained, returned))).label("contained_returned"),
                  sa.func.sum(_flag(sa.and_(verified, promised))).label("promised"),
                  sa.func.sum(_flag(sa.and_(verified, agreed))).label("agreed"))
        .select_from(started
                     .outerjoin(promised_ids, promised_ids.c.conversation_id == cid)
                     .outerjoin(agreed_ids, agreed_ids.c.conversation_id == cid))
        .group_by(started.c.day, started.c.language, started.c.channel)
        .order_by(started.c.day, started.c.language, started.c.channel))
    return [dict(row._mapping) for row in connection.execute(statement)]


def handoffs_by_reason(connection: Connection) -> list[dict]:
    """Per day, language and channel of start (STARTED) and escalation reason: conversations handed to a person."""
    started = STARTED
    statement = (
        sa.select(started.c.day, started.c.language, started.c.channel, Escalation.reason,
                  sa.func.count(sa.distinct(Escalation.conversation_id)).label("handed_off"))
        .select_from(started.join(Escalation.__table__, Escalation.conversation_id == started.c.conversation_id))
        .group_by(started.c.day, started.c.language, started.c.channel, Escalation.reason)
        .order_by(started.c.day, Escalation.reason))
    return [dict(row._mapping) for row in connection.execute(statement)]


def settled_promises(connection: Connection, days: DayRange) -> list[dict]:
    """Per day of settlement, language and channel: promises that stopped being open, by how."""
    day = day_of(PromiseToPay.settled_at)
    language = _conversation_language(PromiseToPay.conversation_id)
    channel = _conversation_channel(PromiseToPay.conversation_id)
    statement = (
        sa.select(day.label("day"), language.label("language"), channel.label("channel"),
                  sa.func.count().label("settled"),
                  sa.func.sum(_flag(PromiseToPay.status == "kept")).label("kept"),
                  sa.func.sum(_flag(PromiseToPay.status == "partly_kept")).label("partly_kept"),
                  sa.func.sum(_flag(PromiseToPay.status == "broken")).label("broken"))
        .where(PromiseToPay.status.in_(SETTLED),
               PromiseToPay.settled_at >= days.since, PromiseToPay.settled_at < days.until)
        .group_by(day, language, channel).order_by(day))
    return [dict(row._mapping) for row in connection.execute(statement)]


def agent_times(connection: Connection, days: DayRange) -> list[dict]:
    """Per day of escalation, language and channel: seconds to the first agent reply, and handle time."""
    day = day_of(Escalation.created_at)
    channel = sa.func.coalesce(Escalation.channel, UNKNOWN)
    replied = Escalation.first_agent_reply_at.isnot(None)
    handled = sa.and_(Escalation.claimed_at.isnot(None), Escalation.closed_at.isnot(None))
    statement = (
        sa.select(day.label("day"), Escalation.language.label("language"), channel.label("channel"),
                  sa.func.count().label("escalations"),
                  sa.func.sum(_flag(replied)).label("replied"),
                  sa.func.sum(sa.case((replied, seconds_between(Escalation.created_at,
                                                                 Escalation.first_agent_reply_at)),
                                      else_=0)).label("reply_seconds"),
                  sa.func.sum(_flag(handled)).label("handled"),
                  sa.func.sum(sa.case((handled, seconds_between(Escalation.claimed_at, Escalation.closed_at)),
                                      else_=0)).label("handle_seconds"))
        .where(Escalation.created_at >= days.since, Escalation.created_at < days.until)
        .group_by(day, Escalation.language, channel).order_by(day))
    return [dict(row._mapping) for row in connection.execute(statement)]


def _cents(json_field) -> sa.sql.ColumnElement:
    """A money amount stored as decimal text in JSON, as whole cents (exact sums on both databases)."""
    return sa.cast(sa.func.round(sa.cast(json_field, sa.Numeric) * 100), sa.BigInteger)


def concessions_granted(connection: Connection, days: DayRange) -> list[dict]:
    """Per day of signing, authority, rule and policy version: agreements signed and what they waived."""
    day = day_of(Agreement.accepted_at)
    statement = (
        sa.select(day.label("day"), OfferRecord.authority, OfferRecord.rule, OfferRecord.policy_version,
                  sa.func.count().label("agreements"),
                  sa.func.sum(_cents(json_text(OfferRecord.terms_json, "waived_fees"))).label("waived_fees_cents"),
                  sa.func.sum(_cents(json_text(OfferRecord.terms_json, "waived_interest"))
                              ).label("waived_interest_cents"))
        .select_from(Agreement.__table__.join(OfferRecord.__table__, Agreement.offer_record_id == OfferRecord.id))
        .where(Agreement.accepted_at >= days.since, Agreement.accepted_at < days.until)
        .group_by(day, OfferRecord.authority, OfferRecord.rule, OfferRecord.policy_version)
        .order_by(day, OfferRecord.authority, OfferRecord.rule))
    return [dict(row._mapping) for row in connection.execute(statement)]


def opt_outs(connection: Connection, days: DayRange) -> list[dict]:
    """Per day and channel: borrowers who asked not to be contacted."""
    day = day_of(ContactOptOut.recorded_at)
    channel = sa.func.coalesce(ContactOptOut.channel, UNKNOWN)
    statement = (
        sa.select(day.label("day"), channel.label("channel"), sa.func.count().label("opt_outs"))
        .where(ContactOptOut.recorded_at >= days.since, ContactOptOut.recorded_at < days.until)
        .group_by(day, channel).order_by(day))
    return [dict(row._mapping) for row in connection.execute(statement)]


def contact_attempts(connection: Connection, days: DayRange) -> list[dict]:
    """Per day, channel and refusing rule: follow-up attempts and those a contact rule refused."""
    day = day_of(ContactAttempt.attempted_at)
    refused = ContactAttempt.outcome == ATTEMPT_REFUSED
    rule = sa.case((refused, sa.func.coalesce(ContactAttempt.rule, UNKNOWN)), else_="")
    statement = (
        sa.select(day.label("day"), ContactAttempt.channel.label("channel"), rule.label("rule"),
                  sa.func.count().label("attempts"), sa.func.sum(_flag(refused)).label("refused"))
        .where(ContactAttempt.attempted_at >= days.since, ContactAttempt.attempted_at < days.until)
        .group_by(day, ContactAttempt.channel, rule).order_by(day))
    return [dict(row._mapping) for row in connection.execute(statement)]


def _bucket(days_past_due) -> sa.sql.ColumnElement:
    return sa.case((days_past_due <= 0, "current"), (days_past_due < 30, "1-29"), (days_past_due < 60, "30-59"),
                   (days_past_due < 90, "60-89"), else_="90+")


def dpd_transitions(connection: Connection, periods: list[tuple[str, date, date]]) -> list[dict]:
    """Per period: loans by days-past-due bucket on the snapshot `opening` and on `closing`.

    `periods` are (label, opening day, closing day) where each period opens on the day the one before it
    closes (as `kpis.transition_spans` makes them). A loan counts when it has a snapshot on both days."""
    if not periods:
        return []
    snapshots = LoanDayStatus.__table__
    boundaries = sorted({day for _, opening, closing in periods for day in (opening, closing)})
    # One ordered pass over the boundary days' snapshots; each is paired with the same loan's previous one.
    window = {"partition_by": snapshots.c.loan_id, "order_by": snapshots.c.as_of}
    paired = (sa.select(snapshots.c.as_of.label("closing"),
                        sa.func.lag(snapshots.c.as_of).over(**window).label("opening"),
                        sa.func.lag(snapshots.c.days_past_due).over(**window).label("opening_dpd"),
                        snapshots.c.days_past_due.label("closing_dpd"))
              .where(snapshots.c.as_of.in_(boundaries)).subquery("paired"))
    from_bucket = _bucket(paired.c.opening_dpd)
    to_bucket = _bucket(paired.c.closing_dpd)
    statement = (
        sa.select(paired.c.opening, paired.c.closing, from_bucket.label("from_bucket"),
                  to_bucket.label("to_bucket"), sa.func.count().label("loans"))
        .where(paired.c.opening.isnot(None))
        .group_by(paired.c.opening, paired.c.closing, from_bucket, to_bucket))
    label_of = {(opening, closing): label for label, opening, closing in periods}
    rows = []
    for row in connection.execute(statement):
        label = label_of.get((_as_date(row.opening), _as_date(row.closing)))
        if label is not None:  # a loan without a snapshot on a boundary day pairs across it: not a period
            rows.append({"period": label, "from_bucket": row.from_bucket, "to_bucket": row.to_bucket,
                         "loans": row.loans})
    return sorted(rows, key=lambda row: row["period"])


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
