"""Follow-up simulation: many borrowers over many simulated days, every proactive contact put to the
contact policy, and the resulting send log replayed by the independent checker.

The clock is simulated (no sleeping): each day a small planner releases the contacts due that day
(promise reminders, instalment reminders, follow-ups after a missed promise or instalment, one
re-engagement), then they are taken up in time order and `bot.outreach.rules.decide` is asked about
each. A refusal with a retry time goes back in the queue; a retry past the contact's use (a reminder
after its date) is dropped as `stale:<rule>`. Sends and failures are kept in memory the way
`contact_attempts` keeps them. `python -m bench.simulate_followup --borrowers 10000 --days 90`.
"""
from __future__ import annotations

import argparse
import dataclasses
import heapq
import random
import time as wallclock
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from bench.followup_checker import Limits, LoggedAttempt, check, render
from bot.negotiation.policy import OutreachRules, load_policy
from bot.outreach.rules import ContactFacts, Decision, decide

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policy.yml"
UTC = timezone.utc
START = datetime(2026, 2, 1, tzinfo=UTC)  # 90 days from here cross the US (8 Mar) and UK (29 Mar) clock changes
# With no time zone known, a message goes only at hours quiet in none of these (policy.yml serves only
# Shanghai; adding America/New_York here leaves no common hour under US and UK rules in winter).
SERVED = ("Asia/Shanghai", "Asia/Kolkata", "Europe/London")
ZONES = (("Asia/Shanghai", 35), ("Asia/Kolkata", 10), ("Europe/London", 15), ("America/New_York", 15),
         ("America/Los_Angeles", 15), (None, 10))
HOME = {"Asia/Shanghai": "CN", "Europe/London": "UK", "America/New_York": "US", "America/Los_Angeles": "US"}
HANDOFF_REASONS = ("request_human", "dispute_debt", "complain", "vulnerable", "self_harm", "legal_representation")
DELIVERY_FAILURE_RATE = 0.01

Decide = Callable[..., Decision]


@dataclass
class Borrower:
    id: str
    zone: str | None
    jurisdiction: str
    channel: str
    wrong_chat: bool = False                  # the planner's target chat is not this borrower's verified one
    opt_out_at: datetime | None = None
    handoffs: list[tuple[datetime, datetime, str]] = field(default_factory=list)
    holds: list[tuple[datetime, datetime, str]] = field(default_factory=list)
    attempts: list[datetime] = field(default_factory=list)

    def facts(self, now: datetime) -> ContactFacts:
        open_reasons = {reason for start, end, reason in self.handoffs if start <= now < end}
        return ContactFacts(
            attempts=tuple(a for a in self.attempts if a > now - timedelta(days=7)),
            opted_out=self.opt_out_at is not None and self.opt_out_at <= now,
            handoff_open=bool(open_reasons),
            dispute_or_complaint_open=bool(open_reasons & {"dispute_debt", "complain"}),
            vulnerable=any(start <= now and reason in ("vulnerable", "self_harm")
                           for start, _, reason in self.handoffs),
            hold=next((kind for start, end, kind in self.holds if start <= now < end), None),
            own_verified_chat=not self.wrong_chat,
        )


@dataclass
class Promise:
    id: int
    borrower: Borrower
    due: date                 # local date
    paid_at: datetime | None  # kept when paid by the end of the due date
    kept: bool


@dataclass
class PlannedContact:
    borrower: Borrower
    reason: str
    due_at: datetime
    valid_until: datetime
    promise: Promise | None = None
    paid_at: datetime | None = None  # a reminder is no longer needed once the debt it is about is paid


@dataclass
class Results:
    borrowers: int = 0
    days: int = 0
    planned: int = 0
    decisions: int = 0
    sent: int = 0
    failed: int = 0
    reschedules: int = 0
    rescheduled_contacts: int = 0
    cancelled_paid: int = 0
    pending_at_end: int = 0
    dropped: Counter = field(default_factory=Counter)
    refused_first: Counter = field(default_factory=Counter)
    sent_by_reason: Counter = field(default_factory=Counter)
    kept_promises: int = 0
    reminders_for_kept: int = 0
    due_promises: int = 0
    reminded_promises: int = 0
    not_reminded: Counter = field(default_factory=Counter)
    log: list[LoggedAttempt] = field(default_factory=list)
    attempts_table: list[tuple] = field(default_factory=list)  # (borrower, channel, at, outcome, rule, reason)
    violations: int = 0
    violation_counts: Counter = field(default_factory=Counter)
    checker_text: str = ""
    seconds: float = 0.0


def local_instant(day: date, clock: time, zone: str | None) -> datetime:
    """A local wall time as a UTC instant (zone unknown: the first served zone's clock)."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone or SERVED[0])).astimezone(UTC)


def local_date(moment: datetime, zone: str | None) -> date:
    return moment.astimezone(ZoneInfo(zone or SERVED[0])).date()


def make_borrowers(count: int, days: int, rng: random.Random, rules: OutreachRules) -> list[Borrower]:
    names, weights = zip(*ZONES)
    end = START + timedelta(days=days)
    borrowers = []
    for number in range(count):
        zone = rng.choices(names, weights)[0]
        jurisdiction = HOME.get(zone) if zone in HOME and rng.random() > 0.05 else rng.choice(("CN", "US", "UK"))
        borrower = Borrower(id=f"B{number:05d}", zone=zone, jurisdiction=jurisdiction,
                            channel=rng.choice(("telegram", "telegram", "socketio")),
                            wrong_chat=rng.random() < 0.01)

        def some_time() -> datetime:
            return START + timedelta(seconds=rng.randrange(int((end - START).total_seconds())))

        if rng.random() < 0.05:
            borrower.opt_out_at = some_time()
        if rng.random() < 0.08:
            start = some_time()
            borrower.handoffs.append((start, start + timedelta(hours=rng.randint(2, 240)), rng.choice(HANDOFF_REASONS)))
        breathing = rules.jurisdiction(jurisdiction).breathing_space_days
        if breathing and rng.random() < 0.08:
            start = some_time()
            borrower.holds.append((start, start + timedelta(days=breathing), "breathing_space"))
        if rng.random() < 0.03:
            start = some_time()
            borrower.holds.append((start, start + timedelta(days=rng.randint(2, 14)), "agent_pause"))
        borrowers.append(borrower)
    return borrowers


def plan_contacts(borrowers: list[Borrower], days: int, rng: random.Random,
                  rules: OutreachRules) -> tuple[list[PlannedContact], list[Promise]]:
    """Promises, plan instalments and departures drawn at random, and the contacts they call for."""
    contacts: list[PlannedContact] = []
    promises: list[Promise] = []
    first_day = START.date()
    at = rules.reminder_local_time
    for borrower in borrowers:
        zone = borrower.zone
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            made = first_day + timedelta(days=rng.randrange(days - 3))
            due = made + timedelta(days=rng.randint(2, 14))
            end_of_due = local_instant(due + timedelta(days=1), time(0), zone)
            kept = rng.random() < 0.6
            paid_at = None
            if kept:  # paid some time between making the promise and the end of its date
                start = local_instant(made, time(12), zone)
                paid_at = start + (end_of_due - start) * rng.random()
            promise = Promise(len(promises), borrower, due, paid_at, kept)
            promises.append(promise)
            for before in rules.promise_reminder_days_before:
                contacts.append(PlannedContact(borrower, "promise_reminder", local_instant(due - timedelta(days=before),
                                               at, zone), end_of_due, promise=promise, paid_at=paid_at))
            if not kept:
                follow = local_instant(due + timedelta(days=rules.follow_up_after_missed_days), at, zone)
                contacts.append(PlannedContact(borrower, "missed_promise", follow, follow + timedelta(days=7)))
        if rng.random() < 0.35:
            first_due = first_day + timedelta(days=rng.randint(3, 40))
            for number in range(3):
                due = first_due + timedelta(days=30 * number)
                end_of_due = local_instant(due + timedelta(days=1), time(0), zone)
                paid = rng.random() < 0.8
                paid_at = end_of_due - timedelta(hours=rng.randint(1, 96)) if paid else None
                for before in rules.instalment_reminder_days_before:
                    contacts.append(PlannedContact(borrower, "instalment_reminder",
                                                   local_instant(due - timedelta(days=before), at, zone),
                                                   end_of_due, paid_at=paid_at))
                if not paid:
                    follow = local_instant(due + timedelta(days=rules.follow_up_after_missed_days), at, zone)
                    contacts.append(PlannedContact(borrower, "missed_instalment", follow, follow + timedelta(days=7)))
        if rng.random() < 0.10:
            left = START + timedelta(seconds=rng.randrange(days * 86400))
            due = left + timedelta(hours=rules.reengage_after_hours)
            contacts.append(PlannedContact(borrower, "reengagement", due, due + timedelta(days=3)))
    return contacts, promises


def simulate(borrowers: int = 10_000, days: int = 90, seed: int = 13, decide_fn: Decide = decide,
             policy_path: Path = POLICY, served: tuple[str, ...] = SERVED) -> Results:
    """Run the simulation and the checker; `decide_fn` lets a test put a broken policy in."""
    started = wallclock.perf_counter()
    rng = random.Random(seed)
    rules = dataclasses.replace(load_policy(policy_path).outreach, served_time_zones=served)
    people = make_borrowers(borrowers, days, rng, rules)
    contacts, promises = plan_contacts(people, days, rng, rules)
    results = Results(borrowers=borrowers, days=days)

    by_day: dict[date, list[PlannedContact]] = defaultdict(list)
    for contact in contacts:
        by_day[contact.due_at.date()].append(contact)
    first_decision: dict[int, str] = {}
    final: dict[int, str] = {}            # id(contact) -> "sent" | "delivery_failed" | rule that dropped it
    queue: list[tuple[datetime, int, PlannedContact]] = []
    sequence = 0

    for day_number in range(days):
        today = (START + timedelta(days=day_number)).date()
        for contact in by_day.get(today, ()):   # the planner: what falls due today
            heapq.heappush(queue, (contact.due_at, sequence, contact))
            sequence += 1
            results.planned += 1
        day_end = START + timedelta(days=day_number + 1)
        while queue and queue[0][0] < day_end:
            now, _, contact = heapq.heappop(queue)   # the controllable clock: jump to the next due contact
            borrower = contact.borrower
            if contact.paid_at is not None and contact.paid_at <= now:
                results.cancelled_paid += 1
                final[id(contact)] = "paid_before_reminder"
                continue
            facts = borrower.facts(now)
            decision = decide_fn(now=now, time_zone=borrower.zone, jurisdiction=borrower.jurisdiction,
                                 facts=facts, rules=rules)
            results.decisions += 1
            if decision.send:
                outcome = "delivery_failed" if rng.random() < DELIVERY_FAILURE_RATE else "sent"
                borrower.attempts.append(now)
                results.sent += outcome == "sent"
                results.failed += outcome == "delivery_failed"
                if outcome == "sent":
                    results.sent_by_reason[contact.reason] += 1
                final[id(contact)] = outcome
                results.attempts_table.append((borrower.id, borrower.channel, now, outcome.replace("delivery_", ""), None,
                                               contact.reason))
                results.log.append(LoggedAttempt(
                    borrower=borrower.id, channel=borrower.channel, attempted_at=now, time_zone=borrower.zone,
                    jurisdiction=borrower.jurisdiction, opted_out=facts.opted_out, handoff_open=facts.handoff_open,
                    dispute_open=facts.dispute_or_complaint_open, vulnerable=facts.vulnerable, hold=facts.hold,
                    own_chat=facts.own_verified_chat))
                continue
            results.attempts_table.append((borrower.id, borrower.channel, now, "refused", decision.rule, contact.reason))
            if id(contact) not in first_decision:
                first_decision[id(contact)] = decision.rule
                results.refused_first[_family(decision.rule)] += 1
            if decision.retry_at is None:
                results.dropped[decision.rule] += 1
                final[id(contact)] = decision.rule
            elif decision.retry_at > contact.valid_until:
                rule = f"stale:{_family(decision.rule)}"
                results.dropped[rule] += 1
                final[id(contact)] = rule
            else:
                results.reschedules += 1
                heapq.heappush(queue, (decision.retry_at, sequence, contact))
                sequence += 1
    results.pending_at_end = len(queue)
    results.rescheduled_contacts = sum(1 for c in contacts if id(c) in first_decision and final.get(id(c)) == "sent")

    _promise_figures(results, contacts, promises, final, START + timedelta(days=days))
    limits = Limits.from_policy(policy_path, served_zones=served)
    report = check(results.log, limits)
    results.violations = len(report.violations)
    results.violation_counts = report.counts()
    results.checker_text = render(report)
    results.seconds = wallclock.perf_counter() - started
    return results


def _family(rule: str | None) -> str:
    """A rule without its jurisdiction: quiet_hours:CN -> quiet_hours."""
    return (rule or "").split(":")[0] if (rule or "").startswith("quiet_hours") else (rule or "")


def _promise_figures(results: Results, contacts: list[PlannedContact], promises: list[Promise],
                     final: dict[int, str], end: datetime) -> None:
    reminders: dict[int, list[PlannedContact]] = defaultdict(list)
    for contact in contacts:
        if contact.promise is not None:
            reminders[contact.promise.id].append(contact)
    for promise in promises:
        planned = [c for c in reminders[promise.id] if c.due_at < end]
        outcomes = [final.get(id(c)) for c in planned]
        sent = sum(1 for o in outcomes if o == "sent")
        if promise.kept and planned and all(c.valid_until <= end for c in planned):
            results.kept_promises += 1
            results.reminders_for_kept += sent
        if not planned or all(o == "paid_before_reminder" for o in outcomes):
            continue  # not yet due within the run, or paid before any reminder was due
        if any(o is None for o in outcomes) and not sent:
            continue  # still waiting in the queue when the run ended
        results.due_promises += 1
        if sent:
            results.reminded_promises += 1
        else:
            results.not_reminded[next(o for o in outcomes if o != "paid_before_reminder")] += 1


def report(results: Results) -> str:
    share = results.reminded_promises / results.due_promises if results.due_promises else 1.0
    per_kept = results.reminders_for_kept / results.kept_promises if results.kept_promises else 0.0
    lines = [
        f"borrowers: {results.borrowers:,}   days: {results.days}   served zones (unknown zone): {', '.join(SERVED)}",
        f"contacts considered: {results.planned:,} planned, {results.decisions:,} policy decisions",
        f"sent: {results.sent:,} (+{results.failed:,} delivery failures, counted as attempts)",
        "  by reason: " + ", ".join(f"{k} {v:,}" for k, v in sorted(results.sent_by_reason.items())),
        f"rescheduled: {results.reschedules:,} times; {results.rescheduled_contacts:,} contacts sent after a reschedule",
        "first refusal by rule: " + ", ".join(f"{k} {v:,}" for k, v in results.refused_first.most_common()),
        "dropped by rule: " + (", ".join(f"{k} {v:,}" for k, v in results.dropped.most_common()) or "none"),
        f"cancelled (paid before the reminder): {results.cancelled_paid:,}   still queued at the end: "
        f"{results.pending_at_end:,}",
        f"violations (independent checker): {results.violations}"
        + ("" if not results.violations else "  " + dict(results.violation_counts).__repr__()),
        f"reminders sent per kept promise: {per_kept:.3f} ({results.reminders_for_kept:,} / "
        f"{results.kept_promises:,})",
        f"due promises that got a reminder: {share:.2%} ({results.reminded_promises:,} / {results.due_promises:,})",
        "  not reminded, by the rule that forbade it: "
        + (", ".join(f"{k} {v:,}" for k, v in results.not_reminded.most_common()) or "none"),
        f"runtime: {results.seconds:.1f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    results = simulate(args.borrowers, args.days, args.seed)
    print(report(results))
    if results.violations:
        print(results.checker_text)
    return 1 if results.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
