"""Holds on outreach: which are in force for a loan, and an agent's pause and resume of it.

One condition decides "in force" for the contact rules (`bot.outreach.facts`) and for the console
alike: started, not yet ended (or open-ended), not lifted. Pausing and resuming are also written to
the account's state changes (`AccountEvent`, subject "outreach", cause "operator"), so the audit
trail says who stopped contact and when. Times are naive UTC, as stored.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.lifecycle.models import AccountEvent
from bot.outreach.models import AGENT_PAUSE, BREATHING_SPACE, OutreachHold

OUTREACH = "outreach"               # AccountEvent.subject
PAUSED, ACTIVE = "paused", "active"  # AccountEvent.to_state of a pause and a resume
OPERATOR = "operator"
HOLD_PRECEDENCE = (BREATHING_SPACE, AGENT_PAUSE)  # the regulated hold is named first when both apply
MAX_NOTE = 500  # OutreachHold.note


class NotPaused(ValueError):
    """Resume asked for a loan with no agent pause in force."""


class AlreadyPaused(ValueError):
    """Pause asked for a loan an agent pause already holds."""


def in_force(now: datetime) -> ColumnElement[bool]:
    """SQL condition: an `OutreachHold` row stops contact at `now`."""
    now = naive_utc(now)
    return (OutreachHold.starts_at <= now) & or_(OutreachHold.ends_at.is_(None), OutreachHold.ends_at > now) \
        & or_(OutreachHold.lifted_at.is_(None), OutreachHold.lifted_at > now)


def holds_in_force(session: Session, loan_reference: str, now: datetime) -> list[OutreachHold]:
    """The loan's holds in force at `now`, a breathing space before an agent pause, oldest first within a kind."""
    rows = session.execute(
        select(OutreachHold).where(OutreachHold.loan_reference == loan_reference, in_force(now))
        .order_by(OutreachHold.starts_at, OutreachHold.id)
    ).scalars().all()
    return sorted(rows, key=lambda hold: (_rank(hold.kind), hold.starts_at, hold.id))


def pause_outreach(session: Session, loan_reference: str, *, by: str, note: str, now: datetime) -> OutreachHold:
    """An open-ended agent pause, from now until an agent resumes; raises AlreadyPaused if one is in force."""
    now = naive_utc(now)
    current = [h for h in holds_in_force(session, loan_reference, now) if h.kind == AGENT_PAUSE]
    if current:
        raise AlreadyPaused(f"outreach is already paused by {current[0].created_by}")
    hold = OutreachHold(loan_reference=loan_reference, kind=AGENT_PAUSE, starts_at=now, ends_at=None,
                        created_by=by, note=note[:MAX_NOTE])
    session.add(hold)
    session.flush()
    _record(session, loan_reference, ACTIVE, PAUSED, by, now, {"hold_id": hold.id, "note": hold.note})
    return hold


def resume_outreach(session: Session, loan_reference: str, *, by: str, now: datetime) -> list[OutreachHold]:
    """Lift every agent pause in force; a breathing space stays (it ends by law, not by a click).

    Raises NotPaused when no agent pause is in force."""
    now = naive_utc(now)
    lifted = [h for h in holds_in_force(session, loan_reference, now) if h.kind == AGENT_PAUSE]
    if not lifted:
        raise NotPaused("outreach is not paused by an agent")
    for hold in lifted:
        hold.lifted_at = now
    session.flush()
    _record(session, loan_reference, PAUSED, ACTIVE, by, now, {"lifted_holds": [h.id for h in lifted]})
    return lifted


def record_breathing_space(session: Session, hold: OutreachHold, *, by: str, now: datetime) -> None:
    """Write a breathing space (made by `bot.outreach.facts.breathing_space_hold`) to the state changes."""
    _record(session, hold.loan_reference, None, BREATHING_SPACE, by, naive_utc(now),
            {"hold_id": hold.id, "ends_at": hold.ends_at.isoformat() if hold.ends_at else None})


def naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(timezone.utc).replace(tzinfo=None)


def _rank(kind: str) -> int:
    return HOLD_PRECEDENCE.index(kind) if kind in HOLD_PRECEDENCE else len(HOLD_PRECEDENCE)


def _record(session: Session, loan_reference: str, from_state: str | None, to_state: str, by: str,
            now: datetime, detail: dict) -> None:
    session.add(AccountEvent(loan_reference=loan_reference, subject=OUTREACH, subject_id=loan_reference,
                             from_state=from_state, to_state=to_state, cause=OPERATOR, cause_ref=by,
                             detail=json.dumps(detail), occurred_on=now.date(), recorded_at=now))
