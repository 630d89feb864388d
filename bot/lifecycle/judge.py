"""The rules that move promises and plans from one state to another. Pure: dates and amounts in, verdicts out.

A verdict carries its cause: the payment that made the change (a promise kept, a plan activated or caught
up), or the policy rule whose deadline passed (a promise broken, a plan in arrears or broken), and the day the
change belongs to. Reconciliation (`bot.lifecycle.reconcile`) stores the verdicts and their events.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Hashable, Sequence

from bot.negotiation.policy import LifecycleRules

ZERO = Decimal("0.00")

# Promise states
OPEN, KEPT, PARTLY_KEPT, BROKEN = "open", "kept", "partly_kept", "broken"
# Plan states: awaiting the good-faith payment, then active / in arrears until it ends.
PENDING, ACTIVE, IN_ARREARS, PLAN_BROKEN, LAPSED, COMPLETED, SUPERSEDED = (
    "pending", "active", "in_arrears", "broken", "lapsed", "completed", "superseded")
FINAL_PLAN_STATES = frozenset({PLAN_BROKEN, LAPSED, COMPLETED, SUPERSEDED})
FINAL_PROMISE_STATES = frozenset({KEPT, PARTLY_KEPT, BROKEN})


@dataclass(frozen=True)
class Paid:
    """A succeeded payment, as the rules see it."""

    key: Hashable  # the lender's payment id where there is one
    amount: Decimal
    paid_on: date


@dataclass(frozen=True)
class Verdict:
    state: str
    paid: Decimal
    due: Decimal
    cause: str       # payment | rule
    cause_ref: str   # the payment id, or the rule
    occurred_on: date


def _running(payments: Sequence[Paid], since: date, until: date | None = None) -> list[tuple[Paid, Decimal]]:
    """Payments made from `since` (to `until`), oldest first, each with the running total after it."""
    counted = sorted((p for p in payments if p.paid_on >= since and (until is None or p.paid_on <= until)),
                     key=lambda p: (p.paid_on, str(p.key)))
    total, out = ZERO, []
    for payment in counted:
        total += payment.amount
        out.append((payment, total))
    return out


def _crossing(running: list[tuple[Paid, Decimal]], target: Decimal) -> Paid | None:
    """The payment whose running total first reached `target`."""
    return next((payment for payment, total in running if total >= target), None)


def judge_promise(*, amount: Decimal, given_on: date, due_on: date, payments: Sequence[Paid], today: date,
                  rules: LifecycleRules, version: str) -> Verdict:
    """Kept once payments made since the promise cover it; at its date plus the grace days, partly kept
    or broken; open until then."""
    deadline = due_on + timedelta(days=rules.promise_grace_days)
    running = _running(payments, given_on, deadline)
    paid = running[-1][1] if running else ZERO
    settled_by = _crossing(running, amount)
    if settled_by is not None:
        return Verdict(KEPT, paid, amount, "payment", str(settled_by.key), settled_by.paid_on)
    if today > deadline:
        rule = f"lifecycle.promise_grace_days={rules.promise_grace_days} (policy {version})"
        return Verdict(PARTLY_KEPT if paid > ZERO else BROKEN, paid, amount, "rule", rule,
                       deadline + timedelta(days=1))
    return Verdict(OPEN, paid, amount, "rule", "promise recorded", given_on)


@dataclass(frozen=True)
class PlanRow:
    number: int
    due: date
    amount: Decimal


def judge_plan(*, schedule: Sequence[PlanRow], agreed_on: date, payments: Sequence[Paid], today: date,
               rules: LifecycleRules, version: str) -> Verdict:
    """Where a plan stands today, from the payments made since it was agreed.

    Pending until the first (good-faith) instalment is paid, lapsed if its date passes unpaid; then active
    while every instalment is paid by its date plus `plan_arrears_after_days`, in arrears after that (active
    again once caught up), broken when one is unpaid more than `plan_default_after_days`; completed when
    everything is paid."""
    rows = sorted(schedule, key=lambda row: row.number)
    running = _running(payments, agreed_on)
    paid = running[-1][1] if running else ZERO
    total = sum((row.amount for row in rows), ZERO)
    due_now = sum((row.amount for row in rows if row.due <= today), ZERO)
    if not rows:
        return Verdict(COMPLETED, paid, ZERO, "rule", "empty schedule", agreed_on)
    finished = _crossing(running, total)
    if finished is not None:
        return Verdict(COMPLETED, paid, due_now, "payment", str(finished.key), finished.paid_on)
    first = rows[0]
    if paid < first.amount:
        if today > first.due:
            rule = f"plan.good_faith_first_payment_days (policy {version})"
            return Verdict(LAPSED, paid, due_now, "rule", rule, first.due + timedelta(days=1))
        return Verdict(PENDING, paid, due_now, "rule", "agreement signed", agreed_on)
    cumulative = ZERO
    for row in rows:  # the oldest instalment the payments do not cover
        cumulative += row.amount
        if paid < cumulative:
            late = (today - row.due).days
            if late > rules.plan_default_after_days:
                rule = f"lifecycle.plan_default_after_days={rules.plan_default_after_days} (policy {version})"
                return Verdict(PLAN_BROKEN, paid, due_now, "rule", rule,
                               row.due + timedelta(days=rules.plan_default_after_days + 1))
            if late >= max(rules.plan_arrears_after_days, 1):
                rule = f"lifecycle.plan_arrears_after_days={rules.plan_arrears_after_days} (policy {version})"
                return Verdict(IN_ARREARS, paid, due_now, "rule", rule,
                               row.due + timedelta(days=max(rules.plan_arrears_after_days, 1)))
            break
    # Active: the cause is the payment that last brought the plan up to date.
    covered = sum((row.amount for row in rows if row.due <= today), ZERO)
    caught_up = _crossing(running, max(covered if paid >= covered else ZERO, first.amount))
    if caught_up is None:  # nothing to pay yet (a first instalment of zero)
        return Verdict(ACTIVE, paid, due_now, "rule", "agreement signed", agreed_on)
    return Verdict(ACTIVE, paid, due_now, "payment", str(caught_up.key), caught_up.paid_on)
