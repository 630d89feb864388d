"""What an agent reads about a loan's outreach: the holds in force, the next contacts due and the
latest ones taken up (sent, rescheduled or dropped by a rule, failed).

Read-only and framework-free, like `bot.handoff.account_view`: plain frozen dataclasses, times as
naive UTC with the borrower's zone beside them; wording belongs to whoever shows them. Nothing here
carries a conversation id (on the web widget it is the borrower's credential).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.outreach.holds import holds_in_force, naive_utc
from bot.outreach.planner import NO_LONGER_DUE as PLANNER_DROP
from bot.outreach.models import (
    ATTEMPT_FAILED, ATTEMPT_REFUSED, ATTEMPT_SENT, DROPPED, FAILED, SCHEDULED, Contact, ContactAttempt,
)

NEXT_CONTACTS = 10
LATEST_CONTACTS = 10
# What became of a contact the scheduler took up (HistoryLine.outcome)
SENT, RESCHEDULED, DROPPED_BY_RULE, NO_LONGER_DUE, RETRYING, GAVE_UP = (
    "sent", "rescheduled", "dropped", "no_longer_due", "retrying", "failed")


@dataclass(frozen=True)
class Hold:
    kind: str                   # agent_pause | breathing_space
    starts_at: datetime
    ends_at: datetime | None    # None: until lifted
    created_by: str
    note: str | None


@dataclass(frozen=True)
class NextContact:
    reason: str                 # bot.outreach.models.REASONS
    channel: str
    due_at: datetime            # UTC
    time_zone: str | None       # the borrower's, when known
    attempts: int               # > 0: rescheduled by a rule or retried after a failure


@dataclass(frozen=True)
class PastContact:
    at: datetime                # UTC: when the scheduler took it up (a planner drop: when it was due)
    time_zone: str | None
    reason: str
    channel: str
    outcome: str                # sent | rescheduled | dropped | no_longer_due | retrying | failed
    rule: str | None            # the contact rule that refused, e.g. quiet_hours:CN
    moved_to: datetime | None   # rescheduled: when it is due now, if still scheduled


@dataclass(frozen=True)
class OutreachView:
    loan_reference: str
    holds: tuple[Hold, ...]                 # in force now, a breathing space first
    next_contacts: tuple[NextContact, ...]  # soonest first, at most NEXT_CONTACTS
    scheduled_total: int
    latest: tuple[PastContact, ...]         # latest first, at most LATEST_CONTACTS


def outreach_view(session: Session, loan_reference: str, now: datetime) -> OutreachView:
    """The loan's holds in force at `now`, its next scheduled contacts and the latest ones taken up."""
    now = naive_utc(now)
    scheduled = select(Contact).where(Contact.loan_reference == loan_reference, Contact.status == SCHEDULED)
    upcoming = session.execute(scheduled.order_by(Contact.due_at, Contact.id).limit(NEXT_CONTACTS)).scalars().all()
    total = session.execute(select(func.count()).select_from(scheduled.subquery())).scalar_one()
    return OutreachView(
        loan_reference=loan_reference,
        holds=tuple(Hold(kind=h.kind, starts_at=h.starts_at, ends_at=h.ends_at, created_by=h.created_by,
                         note=h.note) for h in holds_in_force(session, loan_reference, now)),
        next_contacts=tuple(NextContact(reason=c.reason, channel=c.channel, due_at=c.due_at, time_zone=c.time_zone,
                                        attempts=c.attempts) for c in upcoming),
        scheduled_total=int(total),
        latest=_latest(session, loan_reference),
    )


def _latest(session: Session, loan_reference: str) -> tuple[PastContact, ...]:
    """Every attempt (the send log) and every contact the planner dropped, merged by time."""
    attempts = session.execute(
        select(ContactAttempt, Contact).join(Contact, Contact.id == ContactAttempt.contact_id)
        .where(ContactAttempt.loan_reference == loan_reference)
        .order_by(ContactAttempt.attempted_at.desc(), ContactAttempt.id.desc()).limit(LATEST_CONTACTS)
    ).all()
    last_attempt = dict(session.execute(
        select(ContactAttempt.contact_id, func.max(ContactAttempt.id))
        .where(ContactAttempt.contact_id.in_({contact.id for _, contact in attempts}))
        .group_by(ContactAttempt.contact_id)
    ).all()) if attempts else {}
    lines = [_attempt_line(attempt, contact, last_attempt.get(contact.id) == attempt.id)
             for attempt, contact in attempts]
    planner_drops = session.execute(
        select(Contact).where(Contact.loan_reference == loan_reference, Contact.status == DROPPED,
                              Contact.outcome == PLANNER_DROP)
        .order_by(Contact.due_at.desc(), Contact.id.desc()).limit(LATEST_CONTACTS)
    ).scalars().all()
    lines += [PastContact(at=c.due_at, time_zone=c.time_zone, reason=c.reason, channel=c.channel,
                          outcome=NO_LONGER_DUE, rule=None, moved_to=None) for c in planner_drops]
    return tuple(sorted(lines, key=lambda line: line.at, reverse=True)[:LATEST_CONTACTS])


def _attempt_line(attempt: ContactAttempt, contact: Contact, is_last: bool) -> PastContact:
    moved_to = None
    if attempt.outcome == ATTEMPT_SENT:
        outcome = SENT
    elif attempt.outcome == ATTEMPT_REFUSED:
        # A refusal without a later time dropped the contact: its last attempt, the rule kept as outcome.
        dropped = is_last and contact.status == DROPPED and contact.outcome == attempt.rule
        outcome = DROPPED_BY_RULE if dropped else RESCHEDULED
        if outcome == RESCHEDULED and is_last and contact.status == SCHEDULED:
            moved_to = contact.due_at
    elif attempt.outcome == ATTEMPT_FAILED:
        outcome = GAVE_UP if is_last and contact.status == FAILED else RETRYING
    else:
        outcome = attempt.outcome
    return PastContact(at=attempt.attempted_at, time_zone=contact.time_zone, reason=contact.reason,
                       channel=contact.channel, outcome=outcome, rule=attempt.rule, moved_to=moved_to)
