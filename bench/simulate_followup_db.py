"""Follow-up simulation on the database: the real planner and scheduler, a recording sender, a simulated clock.

Unlike `bench.simulate_followup` (an in-memory copy of the planner and send log around the real
`decide`), this drives the production code end to end: `bot.outreach.planner.plan_contacts` and
`bot.outreach.scheduler.OutreachScheduler` (claim, `contact_facts`, `decide`, `contact_attempts`,
reschedule or drop) on a migrated SQLite file. Only the sender is replaced: `RecordingSender` keeps
what would have been sent and fails about 1% of sends (seeded).

The world is drawn up front as a timeline of dated events (promises made, kept or broken as
reconciliation would mark them, plans agreed and paid or in arrears, opt-outs, escalations opened and
closed, agent pauses and breathing spaces, returning borrowers shown an offer) and written to the
database when the simulated clock reaches them. The clock steps every `--step-minutes`; the scheduler
ticks at a step when something happened in the world since the last tick, a contact is due, or a
borrower became idle long enough to be re-engaged. A step with none of these is skipped, since a tick
there would plan the same rows and claim nothing (`--every-step` ticks at every step to check that).

Afterwards the `contact_attempts` rows that reached a channel are joined with the facts of the
timeline (not with `bot.outreach.facts`) and replayed by the independent checker.
`python -m bench.simulate_followup_db --borrowers 500 --days 60 --seed 13` runs the asked-for size; the
defaults are 40 borrowers over 14 days because every tick re-plans the whole book (docs/outreach.md).
"""
from __future__ import annotations

import argparse
import dataclasses
import heapq
import json
import random
import tempfile
import time as wallclock
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from bench.followup_checker import Limits, LoggedAttempt, check, render
from bot.accounts.models import Borrower, ContactOptOut, Loan
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.handoff.models import CLOSED, WAITING, Escalation
from bot.lifecycle.models import PlanStanding
from bot.negotiation.policy import Policy, load_policy
from bot.outreach.facts import breathing_space_hold
from bot.outreach.holds import pause_outreach, record_breathing_space, resume_outreach
from bot.outreach.models import (
    ATTEMPT_FAILED, ATTEMPT_REFUSED, ATTEMPT_SENT, DROPPED, FAILED, PROMISE_REMINDER, SCHEDULED, SENT, Contact,
    ContactAttempt,
)
from bot.outreach.scheduler import OutreachScheduler
from bot.outreach.sender import SendError
from bot.storage import Database
from bot.storage.schema import migrate
from bot.verification.models import VerifiedSession

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policy.yml"
START = datetime(2026, 2, 1)  # naive UTC; 60 days from here cross the US (8 Mar) and UK (29 Mar) clock changes
# With no time zone known, a message goes only at hours quiet in none of these (as in bench.simulate_followup).
SERVED = ("Asia/Shanghai", "Asia/Kolkata", "Europe/London")
ZONES = (("Asia/Shanghai", 40), ("Europe/London", 15), ("America/New_York", 15), ("America/Los_Angeles", 15),
         (None, 15))
HOME = {"Asia/Shanghai": "CN", "Europe/London": "UK", "America/New_York": "US", "America/Los_Angeles": "US"}
HANDOFF_REASONS = ("request_human", "dispute_debt", "complain", "vulnerable", "self_harm", "legal_representation")
VULNERABLE_REASONS = ("vulnerable", "self_harm")
DISPUTE_REASONS = ("dispute_debt", "complain")
DELIVERY_FAILURE_RATE = 0.01
RECONCILIATION_DELAY = (timedelta(hours=1), timedelta(hours=8))  # after a local day ends, statuses change
INSTALMENT = Decimal("100.00")
PROMISED = Decimal("50.00")


@dataclass
class SimBorrower:
    """One borrower as the world knows them: the truth the checker's facts are built from."""

    reference: str
    zone: str | None
    jurisdiction: str
    channel: str
    conversation_id: str
    chats: list[tuple[datetime, str]] = field(default_factory=list)          # (verified_at, conversation)
    opt_outs: list[tuple[datetime, str | None]] = field(default_factory=list)  # (recorded_at, channel or all)
    escalations: list[tuple[datetime, datetime, str]] = field(default_factory=list)  # [opened, closed), reason
    holds: list[tuple[datetime, datetime, str]] = field(default_factory=list)  # [start, end), kind

    def local_date(self, moment: datetime) -> date:
        return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(self.zone or SERVED[0])).date()

    def end_of_local_day(self, day: date) -> datetime:
        """Midnight after `day` on the borrower's clock (a served zone's when unknown), as naive UTC."""
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.zone or SERVED[0]))
        return local.astimezone(timezone.utc).replace(tzinfo=None)


@dataclass(order=True)
class Event:
    at: datetime
    sequence: int
    apply: Callable[[Session], None] = field(compare=False)


class RecordingSender:
    """Stands in for `bot.outreach.sender.RasaSender`: keeps what would be sent; fails ~1% of sends (seeded)."""

    def __init__(self, clock: Callable[[], datetime], seed: int, failure_rate: float = DELIVERY_FAILURE_RATE) -> None:
        self.clock = clock
        self.failure_rate = failure_rate
        self._rng = random.Random(seed)
        self.sent: list[tuple[int, str, str, str, datetime]] = []   # (contact, conversation, channel, reason, at)
        self.failures = 0

    def send(self, contact: Contact) -> None:
        if self._rng.random() < self.failure_rate:
            self.failures += 1
            raise SendError("rasa answered 502: simulated failure")
        self.sent.append((contact.id, contact.conversation_id, contact.channel, contact.reason, self.clock()))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Results:
    borrowers: int = 0
    days: int = 0
    step_minutes: int = 0
    steps: int = 0
    ticks: int = 0
    events: int = 0
    planned: int = 0
    planned_by_reason: Counter = field(default_factory=Counter)
    sent: int = 0
    sent_by_reason: Counter = field(default_factory=Counter)
    failed_attempts: int = 0
    refused_attempts: int = 0
    refused_by_rule: Counter = field(default_factory=Counter)
    refused_then_sent: int = 0
    dropped: Counter = field(default_factory=Counter)
    given_up: int = 0
    scheduled_at_end: int = 0
    reminders_due: int = 0
    reminders_sent: int = 0
    reminders_unsent: Counter = field(default_factory=Counter)
    reminders_sent_after_promise_date: int = 0
    reminders_lost_to_short_hold: list[str] = field(default_factory=list)
    promises: int = 0
    promises_without_reminder: int = 0
    violations: int = 0
    violation_counts: Counter = field(default_factory=Counter)
    checker_text: str = ""
    checked: int = 0
    attempts_table: list[tuple] = field(default_factory=list)  # (loan, channel, at, outcome, rule, reason)
    seconds: float = 0.0


def policy_for(path: Path, served: tuple[str, ...]) -> Policy:
    policy = load_policy(path)
    return dataclasses.replace(policy, outreach=dataclasses.replace(policy.outreach, served_time_zones=served))


# --- the world ----------------------------------------------------------------------------------
class World:
    """The population and its dated events, drawn from one seeded generator."""

    def __init__(self, count: int, days: int, rng: random.Random, policy: Policy) -> None:
        self.rng = rng
        self.rules = policy.outreach
        self.end = START + timedelta(days=days)
        self.days = days
        self.borrowers: list[SimBorrower] = []
        self.events: list[Event] = []
        self.wakes: list[datetime] = []       # moments a borrower becomes idle long enough to re-engage
        self.promise_due: dict[tuple[str, int], date] = {}
        self._rows: dict[tuple, int] = {}     # world key -> database id, filled in as events are applied
        self._sequence = 0
        for number in range(count):
            self._borrower(number)
        heapq.heapify(self.events)

    def at(self, moment: datetime, apply: Callable[[Session], None]) -> None:
        self.events.append(Event(moment, self._sequence, apply))
        self._sequence += 1

    def some_time(self, earliest: datetime | None = None) -> datetime:
        start = earliest or START
        return start + timedelta(minutes=self.rng.randrange(max(1, int((self.end - start).total_seconds() // 60))))

    def _borrower(self, number: int) -> None:
        rng = self.rng
        names, weights = zip(*ZONES)
        zone = rng.choices(names, weights)[0]
        jurisdiction = HOME[zone] if zone in HOME and rng.random() > 0.05 else rng.choice(("CN", "US", "UK"))
        channel = rng.choice(("telegram", "telegram", "socketio"))
        reference = f"SIM-{number:05d}"
        person = SimBorrower(reference, zone, jurisdiction, channel, f"{channel}:{reference}")
        verified_at = START - timedelta(days=rng.randint(2, 40), minutes=rng.randrange(1440))
        person.chats.append((verified_at, person.conversation_id))
        self.borrowers.append(person)
        self._initial_rows(person, verified_at)
        for index in range(rng.choice((0, 1, 1, 2, 3))):
            self._promise(person, index)
        if rng.random() < 0.35:
            self._plan(person)
        if rng.random() < 0.12:
            self._return_visit(person)
        if rng.random() < 0.06:
            self._opt_out(person)
        if rng.random() < 0.10:
            self._escalation(person)
        if jurisdiction == "UK" and self.rules.jurisdiction("UK").breathing_space_days and rng.random() < 0.10:
            self._breathing_space(person)
        if rng.random() < 0.05:
            self._agent_pause(person)

    def _initial_rows(self, person: SimBorrower, verified_at: datetime) -> None:
        def apply(session: Session) -> None:
            borrower = Borrower(full_name=f"Borrower {person.reference}", date_of_birth=date(1990, 1, 1),
                                preferred_language="en", time_zone=person.zone, jurisdiction=person.jurisdiction)
            session.add(borrower)
            session.flush()
            session.add(Loan(reference=person.reference, borrower_id=borrower.id, currency="CNY",
                             principal=Decimal("1000.00"), annual_rate=Decimal("0.1"),
                             contractual_instalment=INSTALMENT, start_date=date(2025, 6, 1)))
            session.add(VerifiedSession(conversation_id=person.conversation_id, loan_reference=person.reference,
                                        channel=person.channel, verified_at=verified_at, last_seen_at=verified_at))
        self.at(START - timedelta(days=60), apply)

    def _promise(self, person: SimBorrower, index: int) -> None:
        rng = self.rng
        recorded = self.some_time()
        if recorded > self.end - timedelta(days=3):
            recorded = self.end - timedelta(days=3, minutes=rng.randrange(1440))
        due = person.local_date(recorded) + timedelta(days=rng.randint(1, 14))
        key = ("promise", person.reference, index)
        self.promise_due[(person.reference, index)] = due

        def made(session: Session) -> None:
            row = PromiseToPay(conversation_id=person.conversation_id, loan_reference=person.reference,
                               amount=PROMISED, due_on=due, status="open", recorded_at=recorded, paid=Decimal("0"))
            session.add(row)
            session.flush()
            self._rows[key] = row.id
        self.at(recorded, made)

        end_of_due = person.end_of_local_day(due)
        draw = rng.random()
        if draw < 0.6:   # kept: paid between making it and the end of its date, reconciled a little later
            paid_at = recorded + (end_of_due - recorded) * rng.random()
            status, paid, settled = "kept", PROMISED, paid_at + timedelta(minutes=rng.randint(5, 180))
        else:            # not kept: reconciliation marks it after the date ends
            status = "broken" if draw < 0.9 else "partly_kept"
            paid = Decimal("0") if status == "broken" else PROMISED / 2
            low, high = RECONCILIATION_DELAY
            settled = end_of_due + low + (high - low) * rng.random()

        def settle(session: Session) -> None:
            session.execute(update(PromiseToPay).where(PromiseToPay.id == self._rows[key])
                            .values(status=status, paid=paid, settled_at=settled))
        self.at(settled, settle)

    def _plan(self, person: SimBorrower) -> None:
        rng = self.rng
        accepted = self.some_time()
        if accepted > self.end - timedelta(days=5):
            accepted = self.end - timedelta(days=5, minutes=rng.randrange(1440))
        first_due = person.local_date(accepted) + timedelta(days=rng.randint(3, 20))
        dues = [first_due + timedelta(days=30 * n) for n in range(3)]
        key = ("agreement", person.reference)
        reference = f"AGR-{person.reference}"

        def agreed(session: Session) -> None:
            schedule = [{"number": n, "due": d.isoformat(), "amount": str(INSTALMENT)} for n, d in enumerate(dues, 1)]
            row = Agreement(reference=reference, loan_reference=person.reference,
                            conversation_id=person.conversation_id, borrower_name=person.reference, language="en",
                            policy_version="simulation", terms_json=json.dumps({"terms": {"schedule": schedule}}),
                            acceptance_text="yes", accepted_at=accepted)
            session.add(row)
            session.flush()
            session.add(PlanStanding(agreement_id=row.id, loan_reference=person.reference, state="active",
                                     paid=Decimal("0"), due=Decimal("0"), changed_at=accepted))
            self._rows[key] = row.id
        self.at(accepted, agreed)

        paid_total = Decimal("0")
        in_arrears = False
        for number, due in enumerate(dues, 1):
            end_of_due = person.end_of_local_day(due)
            if rng.random() < (0.8 if not in_arrears else 0.5):
                paid_total += INSTALMENT
                moment = end_of_due - timedelta(hours=rng.randint(2, 96))
                moment = max(moment, accepted + timedelta(minutes=10))
                state = "completed" if number == len(dues) and not in_arrears else \
                    ("in_arrears" if in_arrears else "active")
                self.at(moment, self._standing(key, state, paid_total, moment))
            else:
                in_arrears = True
                low, high = RECONCILIATION_DELAY
                moment = end_of_due + low + (high - low) * rng.random()
                self.at(moment, self._standing(key, "in_arrears", paid_total, moment))

    def _standing(self, key: tuple, state: str, paid: Decimal, moment: datetime) -> Callable[[Session], None]:
        def apply(session: Session) -> None:
            session.execute(update(PlanStanding).where(PlanStanding.agreement_id == self._rows[key])
                            .values(state=state, paid=paid, changed_at=moment))
        return apply

    def _return_visit(self, person: SimBorrower) -> None:
        """The borrower verifies again, is shown an offer and leaves without taking one."""
        came = self.some_time()
        left = came + timedelta(minutes=self.rng.randint(3, 20))
        person.chats.append((came, person.conversation_id))

        def visit(session: Session) -> None:
            session.add(VerifiedSession(conversation_id=person.conversation_id, loan_reference=person.reference,
                                        channel=person.channel, verified_at=came, last_seen_at=left))
            session.add(OfferRecord(conversation_id=person.conversation_id, loan_reference=person.reference,
                                    concessions="term_extension", monthly=INSTALMENT, months=10,
                                    total_paid=INSTALMENT * 10, authority="bot", rule="simulation",
                                    policy_version="simulation", terms_json="{}", shown_at=came + timedelta(minutes=2)))
        self.at(left, visit)
        self.wakes.append(left + timedelta(hours=self.rules.reengage_after_hours))

    def _opt_out(self, person: SimBorrower) -> None:
        draw = self.rng.random()
        # this channel, every channel, or only the other one (which must not stop this channel)
        channel = person.channel if draw < 0.6 else (None if draw < 0.85 else
                                                     ("socketio" if person.channel == "telegram" else "telegram"))
        moment = self.some_time()
        person.opt_outs.append((moment, channel))

        def apply(session: Session) -> None:
            session.add(ContactOptOut(conversation_id=person.conversation_id, loan_reference=person.reference,
                                      channel=channel, message="stop", recorded_at=moment))
        self.at(moment, apply)

    def _escalation(self, person: SimBorrower) -> None:
        opened = self.some_time()
        closed = opened + timedelta(hours=self.rng.randint(2, 240))
        reason = self.rng.choice(HANDOFF_REASONS)
        person.escalations.append((opened, closed, reason))
        key = ("escalation", person.reference, opened)

        def open_(session: Session) -> None:
            entry = {"reason": reason, "priority": 2, "at": opened.isoformat(timespec="seconds")}
            row = Escalation(conversation_id=person.conversation_id, channel=person.channel, reason=reason,
                             priority=2, summary=json.dumps({"loan_ref": person.reference, "reasons": [entry]}),
                             status=WAITING, created_at=opened, language="en")
            session.add(row)
            session.flush()
            self._rows[key] = row.id

        def close(session: Session) -> None:
            session.execute(update(Escalation).where(Escalation.id == self._rows[key])
                            .values(status=CLOSED, closed_at=closed, outcome="resolved"))
        self.at(opened, open_)
        self.at(closed, close)

    def _breathing_space(self, person: SimBorrower) -> None:
        start = self.some_time()
        days = self.rules.jurisdiction(person.jurisdiction).breathing_space_days
        person.holds.append((start, start + timedelta(days=days), "breathing_space"))

        def apply(session: Session) -> None:
            hold = breathing_space_hold(session, person.reference, person.jurisdiction, self.rules, start,
                                        created_by="simulation")
            record_breathing_space(session, hold, by="simulation", now=start)
        self.at(start, apply)

    def _agent_pause(self, person: SimBorrower) -> None:
        start = self.some_time()
        end = start + timedelta(hours=self.rng.randint(2, 14 * 24))
        person.holds.append((start, end, "agent_pause"))
        self.at(start, lambda session: pause_outreach(session, person.reference, by="agent", note="simulation",
                                                      now=start))
        self.at(end, lambda session: resume_outreach(session, person.reference, by="agent", now=end))


# --- the run ------------------------------------------------------------------------------------
def simulate(borrowers: int = 40, days: int = 14, seed: int = 13, step_minutes: int = 30,
             every_step: bool = False, policy_path: Path = POLICY, served: tuple[str, ...] = SERVED,
             database_path: Path | None = None) -> Results:
    """Build the world, run the real scheduler over it on a fresh SQLite file, and check the send log."""
    started = wallclock.perf_counter()
    policy = policy_for(policy_path, served)
    world = World(borrowers, days, random.Random(seed), policy)
    with tempfile.TemporaryDirectory() as scratch:
        path = database_path or Path(scratch) / "simulation.db"
        url = f"sqlite:///{path}"
        migrate(url)
        database = Database(url)
        # a scratch file: no fsync per commit (the schema, queries and transactions are unchanged)
        event.listen(database.engine, "connect", _no_fsync)
        try:
            results = _run(database, world, policy, seed, step_minutes, every_step)
            _figures(database, world, results)
        finally:
            database.dispose()
    results.borrowers, results.days, results.step_minutes = borrowers, days, step_minutes
    limits = Limits.from_policy(policy_path, served_zones=served)
    log = attempt_log(results.attempts_table, world)
    report = check(log, limits)
    results.checked = report.checked
    results.violations = len(report.violations)
    results.violation_counts = report.counts()
    results.checker_text = render(report)
    results.seconds = wallclock.perf_counter() - started
    return results


def _no_fsync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _run(database: Database, world: World, policy: Policy, seed: int, step_minutes: int,
         every_step: bool) -> Results:
    results = Results()
    clock = Clock(START)
    sender = RecordingSender(clock, seed)
    scheduler = OutreachScheduler(database, policy, sender, clock=clock, worker="simulation")
    step = timedelta(minutes=step_minutes)
    wakes = sorted(world.wakes)
    events = world.events
    while events and events[0].at < START:   # the books as they stood before the run
        with database.unit_of_work() as session:
            heapq.heappop(events).apply(session)
            results.events += 1
    now = START
    while now <= world.end:
        clock.now = now
        changed = False
        if events and events[0].at <= now:
            with database.unit_of_work() as session:
                while events and events[0].at <= now:
                    heapq.heappop(events).apply(session)
                    results.events += 1
            changed = True
        while wakes and wakes[0] <= now:
            wakes.pop(0)
            changed = True
        if every_step or changed or _contact_due(database, now):
            scheduler.tick()
            results.ticks += 1
        results.steps += 1
        now += step
    return results


def _contact_due(database: Database, now: datetime) -> bool:
    with database.unit_of_work() as session:
        return session.execute(select(Contact.id).where(Contact.status == SCHEDULED, Contact.due_at <= now)
                               .limit(1)).first() is not None


# --- from the tables to the figures and the checker's log ---------------------------------------
def _figures(database: Database, world: World, results: Results) -> None:
    with database.unit_of_work() as session:
        contacts = {c.id: c for c in session.execute(select(Contact)).scalars()}
        attempts = session.execute(select(ContactAttempt).order_by(ContactAttempt.attempted_at,
                                                                   ContactAttempt.id)).scalars().all()
        promises = {p.id: p for p in session.execute(select(PromiseToPay)).scalars()}
        results.promises = len(promises)
        reminded = set(session.execute(select(Contact.subject).where(Contact.reason == PROMISE_REMINDER)).scalars())
        results.promises_without_reminder = sum(1 for p in promises if f"promise:{p}" not in reminded)
        results.scheduled_at_end = session.execute(
            select(func.count(Contact.id)).where(Contact.status == SCHEDULED)).scalar_one()

    by_contact: dict[int, list[ContactAttempt]] = defaultdict(list)
    for attempt in attempts:
        by_contact[attempt.contact_id].append(attempt)
        contact = contacts[attempt.contact_id]
        results.attempts_table.append((attempt.loan_reference, attempt.channel, attempt.attempted_at,
                                       attempt.outcome, attempt.rule, contact.reason))
        if attempt.outcome == ATTEMPT_REFUSED:
            results.refused_attempts += 1
            results.refused_by_rule[attempt.rule] += 1
        elif attempt.outcome == ATTEMPT_FAILED:
            results.failed_attempts += 1

    people = {b.reference: b for b in world.borrowers}
    for contact in contacts.values():
        results.planned += 1
        results.planned_by_reason[contact.reason] += 1
        own = by_contact.get(contact.id, [])
        if contact.status == SENT:
            results.sent += 1
            results.sent_by_reason[contact.reason] += 1
            if any(a.outcome == ATTEMPT_REFUSED for a in own):
                results.refused_then_sent += 1
        elif contact.status == DROPPED:
            results.dropped[contact.outcome] += 1
        elif contact.status == FAILED:
            results.given_up += 1
        if contact.reason == PROMISE_REMINDER:
            _reminder_figures(results, contact, own, promises, people[contact.loan_reference])


def _reminder_figures(results: Results, contact: Contact, own: list[ContactAttempt],
                      promises: dict[int, PromiseToPay], person: SimBorrower) -> None:
    """A planned promise reminder counts as due once the scheduler took it up (or it was cancelled after a
    refusal); one dropped before it was ever due (the promise settled first) or still waiting is not counted."""
    if not own:
        return  # not yet due at the end, or no longer needed before it was due
    results.reminders_due += 1
    promise = promises[int(contact.subject.split(":")[1])]
    end_of_date = person.end_of_local_day(promise.due_on)
    if contact.status == SENT:
        results.reminders_sent += 1
        if contact.sent_at >= end_of_date:
            results.reminders_sent_after_promise_date += 1
        return
    refusals = [a.rule for a in own if a.outcome == ATTEMPT_REFUSED]
    if contact.status == DROPPED:
        # a refusal that rescheduled it, then the planner's "no longer due" once the promise settled
        why = f"{refusals[-1]} then {contact.outcome}" if refusals and contact.outcome != refusals[-1] \
            else contact.outcome
    elif contact.status == FAILED:
        why = "delivery failed"
    elif refusals:
        why = f"{refusals[-1]} (still scheduled at the end)"
    else:
        why = f"{contact.status}: {contact.outcome}"
    results.reminders_unsent[why] += 1
    if contact.outcome and contact.outcome.startswith("hold:agent_pause"):
        dropped_at = own[-1].attempted_at
        for start, end, kind in person.holds:
            if kind == "agent_pause" and start <= dropped_at < end and end < end_of_date:
                results.reminders_lost_to_short_hold.append(
                    f"{contact.key}: dropped {dropped_at:%Y-%m-%d %H:%M}, pause ended {end:%Y-%m-%d %H:%M}, "
                    f"promise date {promise.due_on} ends {end_of_date:%Y-%m-%d %H:%M} UTC; not planned again")


def attempt_log(table: list[tuple], world: World) -> list[LoggedAttempt]:
    """The attempts that reached a channel (sent or failed), with what the world says was true then."""
    people = {b.reference: b for b in world.borrowers}
    log = []
    for loan, channel, at, outcome, _rule, _reason in table:
        if outcome not in (ATTEMPT_SENT, ATTEMPT_FAILED):
            continue
        person = people[loan]
        log.append(LoggedAttempt(
            borrower=loan, channel=channel, attempted_at=at, time_zone=person.zone,
            jurisdiction=person.jurisdiction,
            opted_out=any(when <= at and scope in (None, channel) for when, scope in person.opt_outs),
            handoff_open=any(opened <= at < closed for opened, closed, _ in person.escalations),
            dispute_open=any(opened <= at < closed and reason in DISPUTE_REASONS
                             for opened, closed, reason in person.escalations),
            vulnerable=any(opened <= at and reason in VULNERABLE_REASONS for opened, _, reason in person.escalations),
            hold=next((kind for start, end, kind in person.holds if start <= at < end), None),
            own_chat=any(when <= at and conversation == person.conversation_id for when, conversation in person.chats),
        ))
    return log


def report(results: Results) -> str:
    share = results.reminders_sent / results.reminders_due if results.reminders_due else 1.0
    lines = [
        f"borrowers: {results.borrowers:,}   days: {results.days}   clock step: {results.step_minutes} min "
        f"({results.ticks:,} scheduler ticks over {results.steps:,} steps; {results.events:,} world events)",
        f"served zones (unknown zone): {', '.join(SERVED)}",
        f"contacts planned: {results.planned:,}  by reason: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(results.planned_by_reason.items())),
        f"sent: {results.sent:,}  by reason: " + ", ".join(f"{k} {v:,}" for k, v in sorted(results.sent_by_reason.items())),
        f"delivery failures (attempts, retried): {results.failed_attempts:,}   given up after retries: "
        f"{results.given_up:,}",
        f"refusals (attempts): {results.refused_attempts:,}  by rule: "
        + ", ".join(f"{k} {v:,}" for k, v in results.refused_by_rule.most_common()),
        f"refused then sent (contacts): {results.refused_then_sent:,}",
        "dropped (contacts) by reason: " + (", ".join(f"{k} {v:,}" for k, v in results.dropped.most_common())
                                            or "none"),
        f"still scheduled at the end: {results.scheduled_at_end:,}",
        f"violations (independent checker, {results.checked:,} attempts that reached a channel): "
        f"{results.violations}" + ("" if not results.violations else "  " + repr(dict(results.violation_counts))),
        f"due promise reminders sent: {share:.2%} ({results.reminders_sent:,} / {results.reminders_due:,})",
        "  unsent, by the rule that forbade it: "
        + (", ".join(f"{k} {v:,}" for k, v in results.reminders_unsent.most_common()) or "none"),
        f"  promises: {results.promises:,}; with no reminder planned (made after the reminder's moment): "
        f"{results.promises_without_reminder:,}",
        f"  reminders sent after the promise's date had ended: {results.reminders_sent_after_promise_date:,}",
        f"  reminders dropped for an agent pause that ended before the promise's date: "
        f"{len(results.reminders_lost_to_short_hold):,}",
        *[f"    e.g. {line}" for line in results.reminders_lost_to_short_hold[:3]],
        f"runtime: {results.seconds:.1f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=40)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--step-minutes", type=int, default=30)
    parser.add_argument("--every-step", action="store_true", help="tick at every step, even when nothing changed")
    parser.add_argument("--database", type=Path, help="keep the SQLite file here (default: a temporary one)")
    args = parser.parse_args(argv)
    results = simulate(args.borrowers, args.days, args.seed, args.step_minutes, args.every_step,
                       database_path=args.database)
    print(report(results))
    if results.violations:
        print(results.checker_text)
    return 1 if results.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
