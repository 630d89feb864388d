"""What to schedule: the reminders, follow-ups and re-engagement messages the books call for today.

`plan_contacts` first drops the scheduled contacts whose reason went away (driven by what is still
scheduled), then reads the live items only (open promises, misses recent enough to follow up, live plans,
recently idle verified conversations) and inserts a
`Contact` for each message that is due and not yet planned (insert-if-absent on `Contact.key`, so two
schedulers planning at once, or one planning every tick, never create a message twice). Contacts that
stopped making sense (a promise kept, a plan completed, an instalment already paid) are dropped while
still scheduled. All times are naive UTC, as everywhere in the database.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from bot.accounts.models import Borrower, Loan
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.lifecycle.models import LoanDayStatus, PlanStanding
from bot.negotiation.policy import OutreachRules, Policy
from bot.outreach.links import bound_chats
from bot.outreach.models import (
    DROPPED, INSTALMENT_REMINDER, MISSED_INSTALMENT, MISSED_PROMISE, PROMISE_REMINDER, REENGAGEMENT, RISK_CHECKIN,
    SCHEDULED, Contact,
)
from bot.risk.latest import latest_scores
from bot.risk.models import RiskScore
from bot.outreach.rules import zone_of
from bot.verification.models import VerifiedSession

# Channels on which the assistant can write first (Rasa's REST channel only answers a request).
PROACTIVE_CHANNELS = ("telegram", "socketio")
LIVE_PLAN_STATES = ("pending", "active", "in_arrears")
MISSED_PROMISE_STATES = ("broken", "partly_kept")
NO_LONGER_DUE = "no longer due"
# A follow-up or re-engagement whose moment passed while the planner was not running is still sent
# (due now) up to this late; older ones are not created (a borrower is not chased for last season).
LATE_LIMIT = timedelta(days=7)
KEY_BATCH = 500  # rows per IN (...) list


@dataclass(frozen=True)
class Target:
    """Where and how a borrower is written to: their latest own chat that can receive a message (one they
    verified in, or one bound to them by a deep link)."""

    conversation_id: str
    channel: str
    language: str
    time_zone: str | None      # the borrower's own, when known and valid
    planning_zone: ZoneInfo    # the zone local times are computed in (a served zone when unknown)
    jurisdiction: str


def plan_contacts(session: Session, policy: Policy | OutreachRules, now: datetime) -> int:
    """Schedule every follow-up the books call for at `now` (naive UTC); returns how many were created."""
    rules = policy.outreach if isinstance(policy, Policy) else policy
    planner = _Planner(session, rules, now)
    planner.drop_no_longer_due()
    planner.promises()
    planner.plans()
    planner.reengagements()
    planner.risk_checkins()
    return planner.created


def local_moment(day: date, rules: OutreachRules, zone: ZoneInfo) -> datetime:
    """`reminder_local_time` on `day` in `zone`, as naive UTC (DST-correct: the zone decides the offset)."""
    local = datetime.combine(day, rules.reminder_local_time).replace(tzinfo=zone)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


class _Planner:
    def __init__(self, session: Session, rules: OutreachRules, now: datetime) -> None:
        self.session = session
        self.rules = rules
        self.now = now
        self.created = 0
        self._targets: dict[str, Target | None] = {}
        self._known_keys: dict[str, set[str]] = {}  # per loan: contact keys already in the table

    # --- targets ---------------------------------------------------------------------------------
    def target(self, loan_reference: str) -> Target | None:
        if loan_reference not in self._targets:
            self._targets[loan_reference] = self._find_target(loan_reference)
        return self._targets[loan_reference]

    def _find_target(self, loan_reference: str) -> Target | None:
        borrower = self.session.execute(
            select(Borrower).join(Loan, Loan.borrower_id == Borrower.id).where(Loan.reference == loan_reference)
        ).scalar_one_or_none()
        if borrower is None:
            return None
        references = select(Loan.reference).where(Loan.borrower_id == borrower.id)
        latest = self.session.execute(
            select(VerifiedSession)
            .where(VerifiedSession.loan_reference.in_(references), VerifiedSession.channel.in_(PROACTIVE_CHANNELS))
            .order_by(VerifiedSession.last_seen_at.desc(), VerifiedSession.id.desc()).limit(1)
        ).scalar_one_or_none()
        bound = next(iter(bound_chats(self.session, references)), None)  # a chat bound by a deep link
        if bound is not None and (latest is None or bound.used_at > latest.last_seen_at):
            conversation_id, channel = bound.conversation_id, bound.channel
        elif latest is not None:
            conversation_id, channel = latest.conversation_id, latest.channel
        else:
            return None
        own_zone = zone_of(borrower.time_zone)
        planning_zone = own_zone or ZoneInfo(self.rules.served_time_zones[0])
        jurisdiction = borrower.jurisdiction if borrower.jurisdiction in self.rules.jurisdictions \
            else self.rules.default_jurisdiction
        return Target(conversation_id=conversation_id, channel=channel,
                      language=borrower.preferred_language or "en",
                      time_zone=borrower.time_zone if own_zone else None,
                      planning_zone=planning_zone, jurisdiction=jurisdiction)

    # --- writing ---------------------------------------------------------------------------------
    def schedule(self, *, key: str, loan_reference: str, reason: str, subject: str, due_at: datetime,
                 target: Target | None = None) -> None:
        target = target or self.target(loan_reference)
        if target is None:
            return
        if key in self.known_keys(loan_reference):
            return  # planned before (whatever became of it): nothing to write
        values = dict(key=key, loan_reference=loan_reference, conversation_id=target.conversation_id,
                      channel=target.channel, reason=reason, subject=subject, language=target.language,
                      time_zone=target.time_zone, jurisdiction=target.jurisdiction, due_at=due_at,
                      status=SCHEDULED, attempts=0, created_at=self.now)
        self.created += _insert_if_absent(self.session, values)

    def known_keys(self, loan_reference: str) -> set[str]:
        if loan_reference not in self._known_keys:
            self._known_keys[loan_reference] = set(self.session.execute(
                select(Contact.key).where(Contact.loan_reference == loan_reference)).scalars())
        return self._known_keys[loan_reference]

    def prefetch_keys(self, loan_references: Iterable[str]) -> None:
        """Known keys of many loans in a few queries (creation then writes only what is new)."""
        missing = sorted({r for r in loan_references if r not in self._known_keys})
        for start in range(0, len(missing), KEY_BATCH):
            batch = missing[start:start + KEY_BATCH]
            for reference in batch:
                self._known_keys[reference] = set()
            for reference, key in self.session.execute(
                    select(Contact.loan_reference, Contact.key).where(Contact.loan_reference.in_(batch))):
                self._known_keys[reference].add(key)

    # --- dropping --------------------------------------------------------------------------------
    def drop_no_longer_due(self) -> None:
        """Drop the scheduled contacts whose reason went away. Driven by what is still scheduled (a few rows
        per live promise or plan), never by the whole history of promises and agreements."""
        scheduled = [(row, _subject_parts(row.subject)) for row in self.session.execute(
            select(Contact.id, Contact.subject, Contact.reason).where(Contact.status == SCHEDULED))]
        promise_ids = {part for row, (kind, part, _) in scheduled if kind == "promise"}
        agreement_refs = {part for row, (kind, part, _) in scheduled if kind == "agreement"}
        promises = {p.id: p for p in self._rows(PromiseToPay, PromiseToPay.id, promise_ids)}
        plans = {a.reference: (a, st) for a, st in self._plan_rows(agreement_refs)}
        checked_in = sorted({part for row, (kind, part, _) in scheduled if kind == "loan"})
        settled_otherwise = set()
        for start in range(0, len(checked_in), KEY_BATCH):
            batch = checked_in[start:start + KEY_BATCH]
            settled_otherwise |= self._busy_loans(batch) | _late_loans(self.session, batch)
        gone = []
        for row, (kind, part, number) in scheduled:
            if kind == "loan" and row.reason == RISK_CHECKIN and part in settled_otherwise:
                gone.append(row.id)  # late now, or a promise or plan under way: their own messages take over
            # A subject whose promise or plan is not in the books is left alone (nothing says it went away).
            if kind == "promise" and part in promises:
                if self._promise_contact_gone(promises[part], row.reason):
                    gone.append(row.id)
            elif kind == "agreement" and part in plans and number is not None:
                if self._plan_contact_gone(*plans[part], number, row.reason):
                    gone.append(row.id)
        for start in range(0, len(gone), KEY_BATCH):
            self.session.execute(
                update(Contact).where(Contact.status == SCHEDULED, Contact.id.in_(gone[start:start + KEY_BATCH]))
                .values(status=DROPPED, outcome=NO_LONGER_DUE).execution_options(synchronize_session=False))

    def _rows(self, model, column, values: set):
        values = sorted(values)
        for start in range(0, len(values), KEY_BATCH):
            yield from self.session.execute(select(model).where(column.in_(values[start:start + KEY_BATCH]))).scalars()

    def _plan_rows(self, references: set[str]):
        references = sorted(references)
        for start in range(0, len(references), KEY_BATCH):
            yield from self.session.execute(
                select(Agreement, PlanStanding).outerjoin(PlanStanding, PlanStanding.agreement_id == Agreement.id)
                .where(Agreement.reference.in_(references[start:start + KEY_BATCH]))).all()

    def _promise_contact_gone(self, promise: PromiseToPay, reason: str) -> bool:
        if reason == PROMISE_REMINDER:
            return promise.status != "open"
        if reason == MISSED_PROMISE:
            return promise.status not in MISSED_PROMISE_STATES or self._superseded(promise)
        return False

    def _plan_contact_gone(self, agreement: Agreement, standing: PlanStanding | None, number: int,
                           reason: str) -> bool:
        state = standing.state if standing is not None else None
        if state is not None and state not in LIVE_PLAN_STATES:
            return True
        paid = standing.paid if standing is not None else Decimal("0")
        if number in _covered_numbers(_schedule(agreement), paid):
            return True
        return reason == MISSED_INSTALMENT and state != "in_arrears"

    def follow_up_moment(self, missed_on: date, zone: ZoneInfo) -> datetime | None:
        """When to follow a miss up: the configured days later at the local hour; due now if that passed
        less than LATE_LIMIT ago; None if longer ago."""
        moment = local_moment(missed_on + timedelta(days=self.rules.follow_up_after_missed_days), self.rules, zone)
        if moment >= self.now:
            return moment
        return self.now if self.now - moment <= LATE_LIMIT else None

    # --- promises --------------------------------------------------------------------------------
    def promises(self) -> None:
        # Open promises, and missed ones recent enough to be followed up (older misses are never chased).
        oldest_miss = (self.now - LATE_LIMIT).date() - timedelta(days=self.rules.follow_up_after_missed_days + 1)
        promises = self.session.execute(select(PromiseToPay).where(or_(
            PromiseToPay.status == "open",
            and_(PromiseToPay.status.in_(MISSED_PROMISE_STATES), PromiseToPay.due_on >= oldest_miss)))).scalars().all()
        self.prefetch_keys(p.loan_reference for p in promises)
        for promise in promises:
            subject = f"promise:{promise.id}"
            if promise.status == "open":
                self._promise_reminders(promise, subject)
            elif not self._superseded(promise):
                self._missed_promise(promise, subject)

    def _promise_reminders(self, promise: PromiseToPay, subject: str) -> None:
        target = self.target(promise.loan_reference)
        if target is None:
            return
        for days in self.rules.promise_reminder_days_before:
            due_at = local_moment(promise.due_on - timedelta(days=days), self.rules, target.planning_zone)
            if due_at > self.now:
                self.schedule(key=f"{subject}:before:{days}", loan_reference=promise.loan_reference,
                              reason=PROMISE_REMINDER, subject=subject, due_at=due_at, target=target)

    def _missed_promise(self, promise: PromiseToPay, subject: str) -> None:
        target = self.target(promise.loan_reference)
        if target is None:
            return
        due_at = self.follow_up_moment(promise.due_on, target.planning_zone)
        if due_at is not None:
            self.schedule(key=f"{subject}:missed", loan_reference=promise.loan_reference, reason=MISSED_PROMISE,
                          subject=subject, due_at=due_at, target=target)

    def _superseded(self, promise: PromiseToPay) -> bool:
        """A newer promise or an agreement since: the borrower already reopened the matter."""
        newer_promise = self.session.execute(
            select(PromiseToPay.id).where(PromiseToPay.loan_reference == promise.loan_reference,
                                          PromiseToPay.recorded_at > promise.recorded_at).limit(1)).first()
        newer_agreement = self.session.execute(
            select(Agreement.id).where(Agreement.loan_reference == promise.loan_reference,
                                       Agreement.accepted_at > promise.recorded_at).limit(1)).first()
        return newer_promise is not None or newer_agreement is not None

    # --- plans -----------------------------------------------------------------------------------
    def plans(self) -> None:
        rows = self.session.execute(
            select(Agreement, PlanStanding).outerjoin(PlanStanding, PlanStanding.agreement_id == Agreement.id)
            .where(or_(PlanStanding.id.is_(None), PlanStanding.state.in_(LIVE_PLAN_STATES)))).all()
        self.prefetch_keys(agreement.loan_reference for agreement, _ in rows)
        for agreement, standing in rows:
            prefix = f"agreement:{agreement.reference}:"
            state = standing.state if standing is not None else None
            schedule = _schedule(agreement)
            paid = standing.paid if standing is not None else Decimal("0")
            covered = _covered_numbers(schedule, paid)
            self._instalment_reminders(agreement, schedule, covered, prefix)
            if state == "in_arrears":
                self._missed_instalment(agreement, schedule, covered, prefix)

    def _instalment_reminders(self, agreement: Agreement, schedule: list[dict], covered: set[int],
                              prefix: str) -> None:
        target = self.target(agreement.loan_reference)
        if target is None:
            return
        for row in schedule:
            number = int(row["number"])
            if number in covered:
                continue
            due_on = date.fromisoformat(row["due"])
            for days in self.rules.instalment_reminder_days_before:
                due_at = local_moment(due_on - timedelta(days=days), self.rules, target.planning_zone)
                if due_at > self.now:
                    self.schedule(key=f"{prefix}{number}:before:{days}", loan_reference=agreement.loan_reference,
                                  reason=INSTALMENT_REMINDER, subject=f"{prefix}{number}", due_at=due_at,
                                  target=target)

    def _missed_instalment(self, agreement: Agreement, schedule: list[dict], covered: set[int],
                           prefix: str) -> None:
        target = self.target(agreement.loan_reference)
        if target is None:
            return
        today = self.now.replace(tzinfo=timezone.utc).astimezone(target.planning_zone).date()
        missed = [row for row in schedule
                  if int(row["number"]) not in covered and date.fromisoformat(row["due"]) < today]
        if not missed:
            return
        first = missed[0]
        due_at = self.follow_up_moment(date.fromisoformat(first["due"]), target.planning_zone)
        if due_at is not None:
            number = int(first["number"])
            self.schedule(key=f"{prefix}{number}:missed", loan_reference=agreement.loan_reference,
                          reason=MISSED_INSTALMENT, subject=f"{prefix}{number}", due_at=due_at, target=target)

    # --- re-engagement ---------------------------------------------------------------------------
    def reengagements(self) -> None:
        idle = timedelta(hours=self.rules.reengage_after_hours)
        candidates = self.session.execute(
            select(VerifiedSession).where(VerifiedSession.channel.in_(PROACTIVE_CHANNELS),
                                          VerifiedSession.last_seen_at <= self.now - idle,
                                          VerifiedSession.last_seen_at >= self.now - idle - LATE_LIMIT)
        ).scalars()
        for verified in candidates:
            target = self.target(verified.loan_reference)
            # Only the borrower's latest chat: an older one they already moved on from is not reopened.
            if target is None or target.conversation_id != verified.conversation_id:
                continue
            if not self._offered_since(verified) or self._outcome_since(verified):
                continue  # left mid-negotiation: offers were shown, none was taken (a balance check is not)
            self.schedule(key=f"reengage:{verified.conversation_id}", loan_reference=verified.loan_reference,
                          reason=REENGAGEMENT, subject="conversation", due_at=self.now, target=target)

    def _offered_since(self, verified: VerifiedSession) -> bool:
        """The borrower got as far as being shown an offer after this verification."""
        return self.session.execute(
            select(OfferRecord.id).where(OfferRecord.loan_reference == verified.loan_reference,
                                         OfferRecord.shown_at >= verified.verified_at).limit(1)).first() is not None

    def _outcome_since(self, verified: VerifiedSession) -> bool:
        """The negotiation ended with a promise or an agreement after this verification."""
        for model, moment in ((PromiseToPay, PromiseToPay.recorded_at), (Agreement, Agreement.accepted_at)):
            found = self.session.execute(
                select(model.id).where(model.loan_reference == verified.loan_reference,
                                       moment >= verified.verified_at).limit(1)).first()
            if found is not None:
                return True
        return False


    # --- early-warning check-ins -------------------------------------------------------------------
    def risk_checkins(self) -> None:
        """A check-in to a borrower not yet late whose newest risk score is high: once per period, at the
        reminder hour, and only with nothing else under way (no open promise, no live plan)."""
        threshold = float(self.rules.risk_checkin_min_probability)
        if threshold >= 1:
            return
        fresh = self.now - timedelta(days=2)  # a score from a scoring run that stopped long ago is not acted on
        loans = sorted(reference for reference, score in latest_scores(self.session, self.session.execute(
            select(RiskScore.loan_reference).where(RiskScore.scored_at >= fresh).distinct()).scalars()).items()
            if score.probability >= threshold and score.scored_at >= fresh)
        if not loans:
            return
        busy, late = set(), set()
        for start in range(0, len(loans), KEY_BATCH):
            batch = loans[start:start + KEY_BATCH]
            busy |= self._busy_loans(batch)
            late |= _late_loans(self.session, batch)
        period = (self.now.date() - date(1970, 1, 1)).days // self.rules.risk_checkin_every_days
        self.prefetch_keys(loans)
        for reference in loans:
            if reference in busy or reference in late:
                continue
            target = self.target(reference)
            if target is None:
                continue
            today = self.now.replace(tzinfo=timezone.utc).astimezone(target.planning_zone).date()
            due_at = local_moment(today, self.rules, target.planning_zone)
            if due_at < self.now:
                due_at = local_moment(today + timedelta(days=1), self.rules, target.planning_zone)
            self.schedule(key=f"risk:{reference}:{period}", loan_reference=reference, reason=RISK_CHECKIN,
                          subject=f"loan:{reference}", due_at=due_at, target=target)


    def _busy_loans(self, references: list[str]) -> set[str]:
        """Loans with an open promise or a live plan (their reminders already speak to the borrower)."""
        busy = set(self.session.execute(select(PromiseToPay.loan_reference).where(
            PromiseToPay.status == "open", PromiseToPay.loan_reference.in_(references))).scalars())
        busy |= set(self.session.execute(
            select(Agreement.loan_reference).outerjoin(PlanStanding, PlanStanding.agreement_id == Agreement.id)
            .where(Agreement.loan_reference.in_(references),
                   or_(PlanStanding.id.is_(None), PlanStanding.state.in_(LIVE_PLAN_STATES)))).scalars())
        return busy


def _late_loans(session: Session, references: list[str]) -> set[str]:
    """Loans whose newest day status (reconciliation's snapshot) shows days past due."""
    newest = (select(LoanDayStatus.loan_id, func.max(LoanDayStatus.as_of).label("as_of"))
              .group_by(LoanDayStatus.loan_id).subquery())
    return set(session.execute(
        select(Loan.reference).join(LoanDayStatus, LoanDayStatus.loan_id == Loan.id)
        .join(newest, (newest.c.loan_id == LoanDayStatus.loan_id) & (newest.c.as_of == LoanDayStatus.as_of))
        .where(Loan.reference.in_(references), LoanDayStatus.days_past_due > 0)).scalars())


def _schedule(agreement: Agreement) -> list[dict]:
    rows = json.loads(agreement.terms_json).get("terms", {}).get("schedule") or []
    return sorted(rows, key=lambda row: int(row["number"]))


def _subject_parts(subject: str) -> tuple[str | None, object, int | None]:
    """("promise", id, None) | ("agreement", reference, number) | (None, None, None) for anything else."""
    parts = subject.split(":")
    if len(parts) == 2 and parts[0] == "promise" and parts[1].isdigit():
        return "promise", int(parts[1]), None
    if len(parts) == 3 and parts[0] == "agreement" and parts[2].isdigit():
        return "agreement", parts[1], int(parts[2])
    if len(parts) == 2 and parts[0] == "loan" and parts[1]:
        return "loan", parts[1], None
    return None, None, None


def _covered_numbers(schedule: Iterable[dict], paid: Decimal) -> set[int]:
    """Instalments the payments towards the plan already cover, oldest first."""
    covered, cumulative = set(), Decimal("0")
    for row in schedule:
        cumulative += Decimal(str(row["amount"]))
        if paid >= cumulative:
            covered.add(int(row["number"]))
    return covered


def _insert_if_absent(session: Session, values: dict) -> int:
    """INSERT ... ON CONFLICT (key) DO NOTHING: safe when two planners race for the same contact."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the product runs on SQLite or PostgreSQL
        raise RuntimeError(f"outreach planning needs SQLite or PostgreSQL, not {dialect}")
    statement = insert(Contact).values(**values).on_conflict_do_nothing(index_elements=["key"])
    return session.execute(statement).rowcount or 0
