"""The KPI statements: each reads one family of facts for a date range and returns plain daily rows.

Rows are grouped by UTC day (and by whatever else the family is broken down by); `kpis` rolls days
into weeks and turns sums into rates. Every statement is SQLAlchemy Core over the application's
tables plus the conversation facts folded from Rasa's tracker store (`facts`), and runs
unchanged on SQLite and PostgreSQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.accounts.models import ContactOptOut
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.analytics.facts import REPEAT_WINDOW_SECONDS
from bot.analytics.models import ConversationFacts, LanguageSlot
from bot.analytics.sql import day_of, json_text, seconds_between, unix_day
from bot.handoff.models import Escalation
from bot.lifecycle.models import LoanDayStatus
from bot.outreach.models import ATTEMPT_REFUSED, ContactAttempt
from bot.verification.models import VerifiedSession

UNKNOWN = "unknown"
FACTS = ConversationFacts.__table__
LANGUAGE_SLOTS = LanguageSlot.__table__
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
    """The conversation's latest `language` slot value (its facts row, by primary key)."""
    return sa.func.coalesce(sa.select(FACTS.c.language).where(FACTS.c.conversation_id == conversation_id)
                            .scalar_subquery(), UNKNOWN)


def _conversation_channel(conversation_id) -> sa.sql.ColumnElement:
    """The input channel of the conversation's first borrower message (its facts row, by primary key)."""
    return sa.func.coalesce(sa.select(FACTS.c.channel).where(FACTS.c.conversation_id == conversation_id)
                            .scalar_subquery(), UNKNOWN)


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
    """Fill STARTED for the range from `conversation_facts` (kept current by `facts.catch_up`); returns how
    many conversations started in it.

    A conversation starts with its first `session_started` event (Rasa writes one before anything else a
    conversation says, and one more each time the borrower comes back after the session expired). Its
    language is the latest `language` slot set from the range's start to 7 days after its end, its channel
    that of its first borrower message if sent in that window, and it came back if another session started
    more than 60 s and at most 7 days after its start."""
    STARTED.drop(connection, checkfirst=True)
    STARTED.create(connection)
    window_end = days.unix_until + REPEAT_WINDOW_SECONDS
    in_window = sa.and_(FACTS.c.language_at >= days.unix_since, FACTS.c.language_at < window_end)
    # The latest language slot is nearly always in the window: only the others look further.
    language = sa.case((in_window, FACTS.c.language), (FACTS.c.language_event_id.is_(None), None), else_=(
        sa.select(LANGUAGE_SLOTS.c.value)
        .where(LANGUAGE_SLOTS.c.conversation_id == FACTS.c.conversation_id,
               LANGUAGE_SLOTS.c.set_at >= days.unix_since, LANGUAGE_SLOTS.c.set_at < window_end)
        .order_by(LANGUAGE_SLOTS.c.event_id.desc()).limit(1).scalar_subquery()))
    message_in_window = sa.and_(FACTS.c.first_message_at >= days.unix_since, FACTS.c.first_message_at < window_end)
    channel = sa.case((message_in_window, FACTS.c.channel))
    rows = (sa.select(FACTS.c.conversation_id, FACTS.c.started_at, unix_day(FACTS.c.started_at),
                      sa.func.coalesce(language, UNKNOWN), sa.func.coalesce(channel, UNKNOWN),
                      _flag(FACTS.c.returned))
            .where(FACTS.c.started_at >= days.unix_since, FACTS.c.started_at < days.unix_until))
    connection.execute(STARTED.insert().from_select(
        ["conversation_id", "started", "day", "language", "channel", "returned"], rows))
    return connection.execute(sa.select(sa.func.count()).select_from(STARTED)).scalar_one()


def conversation_outcomes(connection: Connection) -> list[dict]:
    """Per day, language and channel of start: conversations started (STARTED) and what became of them."""
    started = STARTED
    cid = started.c.conversation_id
    # verified_sessions and escalations are indexed by conversation: one probe per conversation. Promises
    # and agreements are not: their conversation ids are gathered once (a hashed or indexed IN list). Each
    # flag is worked out once per conversation (a materialized step), not once per sum that uses it.
    flags = (
        sa.select(started.c.day, started.c.language, started.c.channel, started.c.returned,
                  _flag(sa.exists().where(VerifiedSession.conversation_id == cid)).label("verified"),
                  _flag(~sa.exists().where(Escalation.conversation_id == cid)).label("contained"),
                  _flag(cid.in_(sa.select(PromiseToPay.conversation_id))).label("promised"),
                  _flag(cid.in_(sa.select(Agreement.conversation_id))).label("agreed"))
        .cte("outcome_flags").prefix_with("MATERIALIZED"))
    verified, contained, returned = flags.c.verified == 1, flags.c.contained == 1, flags.c.returned == 1
    statement = (
        sa.select(flags.c.day, flags.c.language, flags.c.channel,
                  sa.func.count().label("conversations"),
                  sa.func.sum(flags.c.verified).label("verified"),
                  sa.func.sum(flags.c.contained).label("contained"),
                  sa.func.sum(flags.c.returned).label("returned"),
                  sa.func.sum(_flag(sa.and_(contained, returned))).label("contained_returned"),
                  sa.func.sum(_flag(sa.and_(verified, flags.c.promised == 1))).label("promised"),
                  sa.func.sum(_flag(sa.and_(verified, flags.c.agreed == 1))).label("agreed"))
        .group_by(flags.c.day, flags.c.language, flags.c.channel)
        .order_by(flags.c.day, flags.c.language, flags.c.channel))
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
