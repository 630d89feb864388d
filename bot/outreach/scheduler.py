"""The follow-up process: plan, claim what is due, check the contact rules, send, record.

Every tick: `plan_contacts`, then claim due contacts in one UPDATE (on PostgreSQL its inner SELECT takes
the rows `FOR UPDATE SKIP LOCKED`, so a second scheduler skips them instead of waiting; SQLite has one
writer at a time and the `status = 'scheduled'` guard in the same statement makes a row claimable once).
Claims are committed before anything is sent; each claimed contact is then decided and recorded in its
own unit of work. Claims older than `claim_timeout` (a scheduler that died mid-batch) go back to
`scheduled`, at start and on every tick. The clock is injected, so tests drive time.

At most once: a contact is marked `sending` (committed) just before it is handed to Rasa. A scheduler
that dies after Rasa took the message but before the send was recorded leaves it `sending`; when that
claim goes stale the sender is asked whether the message is in the conversation (`delivered`: the
tracker holds an `EXTERNAL_outreach` with this contact's id). Yes: recorded as sent, not sent again.
No: back to `scheduled`. Rasa unreachable: left for the next tick.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update

from bot.negotiation.policy import Policy
from bot.outreach.models import (
    ATTEMPT_FAILED, ATTEMPT_REFUSED, ATTEMPT_SENT, CLAIMED, DROPPED, FAILED, SCHEDULED, SENDING, SENT, Contact,
    ContactAttempt,
)
from bot.outreach.planner import plan_contacts
from bot.outreach.facts import contact_facts  # module-level names: tests may replace them
from bot.outreach.rules import decide
from bot.outreach.sender import SendError
from bot.storage import Database

logger = logging.getLogger(__name__)


class Sender(Protocol):
    def send(self, contact: Contact) -> None:
        """Deliver `contact` (raise SendError when it could not be)."""

    def delivered(self, contact: Contact) -> bool | None:
        """Whether `contact` already reached its conversation (None: cannot tell now)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]


@dataclass
class TickReport:
    planned: int = 0
    released: int = 0
    claimed: int = 0
    sent: int = 0
    refused: int = 0
    dropped: int = 0
    failed: int = 0


@dataclass
class OutreachScheduler:
    """One scheduler process (or thread): safe to run beside others on the same database."""

    database: Database
    policy: Policy
    sender: Sender
    clock: Callable[[], datetime] = utc_now
    worker: str = field(default_factory=worker_name)
    batch_size: int = 50
    claim_timeout: timedelta = timedelta(minutes=15)
    max_send_attempts: int = 5
    retry_backoff: timedelta = timedelta(minutes=5)   # doubled after each failed send

    def release_stale_claims(self) -> int:
        """Give back contacts claimed longer ago than `claim_timeout` (their scheduler died); a contact it
        was sending is first looked up in its conversation, so it is never sent twice."""
        cutoff = self.clock() - self.claim_timeout
        with self.database.unit_of_work() as session:
            result = session.execute(
                update(Contact).where(Contact.status == CLAIMED, Contact.claimed_at < cutoff)
                .values(status=SCHEDULED, claimed_by=None, claimed_at=None)
                .execution_options(synchronize_session=False))
            released = result.rowcount or 0
            interrupted = list(session.execute(
                select(Contact).where(Contact.status == SENDING, Contact.claimed_at < cutoff)).scalars())
        for contact in interrupted:
            released += self._recover(contact)
        if released:
            logger.warning("outreach.claims_released count=%s", released)
        return released

    def _recover(self, contact: Contact) -> int:
        """Settle one contact whose scheduler died while sending it; returns 1 when settled."""
        try:
            delivered = self.sender.delivered(contact)
        except Exception:  # noqa: BLE001 - cannot tell now: left as it is for the next tick
            logger.exception("outreach.delivery_lookup_failed contact=%s", contact.id)
            return 0
        if delivered is None:
            return 0
        with self.database.unit_of_work() as session:
            if delivered:
                session.add(ContactAttempt(
                    contact_id=contact.id, loan_reference=contact.loan_reference,
                    conversation_id=contact.conversation_id, channel=contact.channel,
                    attempted_at=contact.claimed_at, outcome=ATTEMPT_SENT,
                    local_time=_local_time(contact.claimed_at, contact.time_zone, self.policy),
                    detail="found in the conversation after the scheduler stopped mid-send"))
                values = dict(status=SENT, sent_at=contact.claimed_at, attempts=Contact.attempts + 1)
            else:
                values = dict(status=SCHEDULED)
            changed = session.execute(
                update(Contact).where(Contact.id == contact.id, Contact.status == SENDING,
                                      Contact.claimed_by == contact.claimed_by)
                .values(claimed_by=None, claimed_at=None, **values)
                .execution_options(synchronize_session=False)).rowcount
        logger.warning("outreach.interrupted_send contact=%s delivered=%s", contact.id, delivered)
        return 1 if changed == 1 else 0

    def tick(self) -> TickReport:
        report = TickReport()
        report.released = self.release_stale_claims()
        with self.database.unit_of_work() as session:
            report.planned = plan_contacts(session, self.policy, self.clock())
        for contact in self.claim():
            report.claimed += 1
            try:
                outcome = self.process(contact)
            except Exception:  # noqa: BLE001 - one bad contact must not hold back the batch
                logger.exception("outreach.contact_failed contact=%s", contact.id)
                # Before anything was sent (facts or rules failed): not an attempt the caps count.
                self._finish(contact, self.clock(), ATTEMPT_REFUSED, "internal_error", status=SCHEDULED,
                             due_at=self.clock() + self.retry_backoff, detail="internal error (see the log)")
                outcome = "failed"
            setattr(report, outcome, getattr(report, outcome) + 1)
        return report

    def claim(self) -> list[Contact]:
        """Mark up to `batch_size` due contacts as ours and commit, so no other scheduler takes them."""
        now = self.clock()
        with self.database.unit_of_work() as session:
            due = (select(Contact.id).where(Contact.status == SCHEDULED, Contact.due_at <= now)
                   .order_by(Contact.due_at, Contact.id).limit(self.batch_size))
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            session.execute(
                update(Contact).where(Contact.id.in_(due.scalar_subquery()), Contact.status == SCHEDULED)
                .values(status=CLAIMED, claimed_by=self.worker, claimed_at=now)
                .execution_options(synchronize_session=False))
        with self.database.unit_of_work() as session:
            return list(session.execute(
                select(Contact).where(Contact.status == CLAIMED, Contact.claimed_by == self.worker)
                .order_by(Contact.due_at, Contact.id)).scalars())

    def process(self, contact: Contact) -> str:
        """Decide and act on one claimed contact; returns sent | refused | dropped | failed."""
        now = self.clock()
        rules = self.policy.outreach
        with self.database.unit_of_work() as session:
            facts = contact_facts(session, loan_reference=contact.loan_reference, channel=contact.channel,
                                  conversation_id=contact.conversation_id, now=now)
        decision = decide(now=now, time_zone=contact.time_zone, jurisdiction=contact.jurisdiction,
                          facts=facts, rules=rules)
        if not decision.send:
            if decision.retry_at is not None:
                self._finish(contact, now, ATTEMPT_REFUSED, decision.rule, status=SCHEDULED,
                             due_at=decision.retry_at)
                return "refused"
            self._finish(contact, now, ATTEMPT_REFUSED, decision.rule, status=DROPPED, outcome=decision.rule)
            return "dropped"
        # Marked first (committed), then sent outside any transaction: no database lock is held while Rasa
        # and the channel work, and a crash from here on is settled by `_recover`, not by sending again.
        with self.database.unit_of_work() as session:
            session.execute(update(Contact).where(Contact.id == contact.id, Contact.claimed_by == self.worker)
                            .values(status=SENDING).execution_options(synchronize_session=False))
        try:
            self.sender.send(contact)
        except SendError as error:
            failures = self._failures(contact) + 1
            if failures >= self.max_send_attempts:
                self._finish(contact, now, ATTEMPT_FAILED, None, status=FAILED, detail=str(error),
                             outcome=f"send failed {failures} times: {error}"[:200])
            else:
                retry_at = now + self.retry_backoff * 2 ** (failures - 1)
                self._finish(contact, now, ATTEMPT_FAILED, None, status=SCHEDULED, due_at=retry_at,
                             detail=str(error))
            logger.warning("outreach.send_failed contact=%s failures=%s error=%s", contact.id, failures, error)
            return "failed"
        self._finish(contact, now, ATTEMPT_SENT, None, status=SENT, sent_at=now)
        return "sent"

    def _failures(self, contact: Contact) -> int:
        with self.database.unit_of_work() as session:
            return len(session.execute(
                select(ContactAttempt.id).where(ContactAttempt.contact_id == contact.id,
                                                ContactAttempt.outcome == ATTEMPT_FAILED)).all())

    def _finish(self, contact: Contact, now: datetime, attempt_outcome: str, rule: str | None, *, status: str,
                detail: str | None = None, **changes) -> None:
        """Record the attempt and give the contact its next state, in one unit of work."""
        with self.database.unit_of_work() as session:
            session.add(ContactAttempt(
                contact_id=contact.id, loan_reference=contact.loan_reference,
                conversation_id=contact.conversation_id, channel=contact.channel, attempted_at=now,
                local_time=_local_time(now, contact.time_zone, self.policy), outcome=attempt_outcome, rule=rule,
                detail=detail))
            session.execute(
                update(Contact).where(Contact.id == contact.id, Contact.claimed_by == self.worker)
                .values(status=status, attempts=Contact.attempts + 1, claimed_by=None, claimed_at=None, **changes)
                .execution_options(synchronize_session=False))

    def run_forever(self, interval_seconds: float, stop: threading.Event | None = None,
                    before_tick: Callable[[], object] | None = None) -> None:
        """Tick every `interval_seconds` until `stop` is set (`before_tick` first: the day's risk scoring);
        a failing tick is logged, never fatal."""
        stop = stop or threading.Event()
        while not stop.is_set():
            if before_tick is not None:
                try:
                    before_tick()
                except Exception:  # noqa: BLE001 - scoring failing today must not stop the follow-up
                    logger.exception("outreach.before_tick_failed")
            try:
                report = self.tick()
                if report.claimed or report.planned or report.released:
                    logger.info("outreach.tick %s", report)
            except Exception:  # noqa: BLE001 - the process must outlive one bad tick (database restart...)
                logger.exception("outreach.tick_failed")
            stop.wait(interval_seconds)


def _local_time(now: datetime, time_zone: str | None, policy: Policy) -> str:
    try:
        zone = ZoneInfo(time_zone) if time_zone else ZoneInfo(policy.outreach.served_time_zones[0])
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(policy.outreach.served_time_zones[0])
    return now.replace(tzinfo=timezone.utc).astimezone(zone).isoformat()
