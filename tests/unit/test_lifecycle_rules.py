"""The rules that move promises and plans: each state, its cause and the day it belongs to."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.lifecycle.judge import Paid, PlanRow, judge_plan, judge_promise
from bot.negotiation import load_policy
from tests.conftest import PROJECT_ROOT

RULES = load_policy(PROJECT_ROOT / "policy.yml").lifecycle  # grace 2 days, arrears after 1, broken after 30
GIVEN = date(2026, 12, 1)
DUE = date(2026, 12, 10)
D = Decimal


def promise(payments, today):
    return judge_promise(amount=D("500.00"), given_on=GIVEN, due_on=DUE, payments=payments, today=today,
                         rules=RULES, version="test")


def test_a_promise_is_kept_by_the_payment_that_covers_it_even_before_its_date():
    verdict = promise([Paid("P1", D("200.00"), date(2026, 12, 3)), Paid("P2", D("300.00"), date(2026, 12, 5))],
                      today=date(2026, 12, 6))
    assert (verdict.state, verdict.cause, verdict.cause_ref, verdict.occurred_on) == (
        "kept", "payment", "P2", date(2026, 12, 5))


def test_a_promise_stays_open_through_its_grace_days_then_is_partly_kept_or_broken():
    part = [Paid("P1", D("200.00"), date(2026, 12, 11))]
    assert promise(part, today=DUE + timedelta(days=2)).state == "open"
    late = promise(part, today=DUE + timedelta(days=3))
    assert (late.state, late.paid, late.cause, late.occurred_on) == ("partly_kept", D("200.00"), "rule", DUE + timedelta(days=3))
    assert "promise_grace_days=2" in late.cause_ref
    assert promise([], today=DUE + timedelta(days=3)).state == "broken"


def test_payments_before_the_promise_or_after_its_grace_do_not_count():
    outside = [Paid("old", D("500.00"), GIVEN - timedelta(days=1)), Paid("late", D("500.00"), DUE + timedelta(days=5))]
    assert promise(outside, today=DUE + timedelta(days=6)).state == "broken"


AGREED = date(2026, 12, 1)
PLAN = [PlanRow(1, date(2026, 12, 8), D("100.00")), PlanRow(2, date(2027, 1, 8), D("400.00")),
        PlanRow(3, date(2027, 2, 8), D("400.00"))]


def plan(payments, today):
    return judge_plan(schedule=PLAN, agreed_on=AGREED, payments=payments, today=today, rules=RULES, version="test")


GOOD_FAITH = Paid("GF", D("100.00"), date(2026, 12, 6))


@pytest.mark.parametrize("payments, today, state", [
    ([], date(2026, 12, 8), "pending"),                       # the good-faith payment is due today
    ([], date(2026, 12, 9), "lapsed"),                        # never became active
    ([GOOD_FAITH], date(2026, 12, 9), "active"),
    ([GOOD_FAITH], date(2027, 1, 8), "active"),               # instalment 2 due today: not late yet
    ([GOOD_FAITH], date(2027, 1, 9), "in_arrears"),
    ([GOOD_FAITH, Paid("P2", D("400.00"), date(2027, 1, 20))], date(2027, 1, 21), "active"),  # caught up
    ([GOOD_FAITH], date(2027, 2, 7), "in_arrears"),           # 30 days late: still arrears
    ([GOOD_FAITH], date(2027, 2, 8), "broken"),               # 31 days late
    ([GOOD_FAITH, Paid("ALL", D("800.00"), date(2027, 1, 2))], date(2027, 1, 3), "completed"),
])
def test_plan_states(payments, today, state):
    assert plan(payments, today).state == state


def test_each_plan_change_names_its_cause_and_day():
    active = plan([GOOD_FAITH], date(2026, 12, 9))
    assert (active.cause, active.cause_ref, active.occurred_on) == ("payment", "GF", date(2026, 12, 6))
    arrears = plan([GOOD_FAITH], date(2027, 1, 15))
    assert (arrears.cause, arrears.occurred_on) == ("rule", date(2027, 1, 9))
    assert "plan_arrears_after_days=1" in arrears.cause_ref
    broken = plan([GOOD_FAITH], date(2027, 3, 1))
    assert broken.occurred_on == date(2027, 2, 8) and "plan_default_after_days=30" in broken.cause_ref
    assert (broken.paid, broken.due) == (D("100.00"), D("900.00"))
    caught_up = plan([GOOD_FAITH, Paid("P2", D("400.00"), date(2027, 1, 20))], date(2027, 1, 21))
    assert caught_up.cause_ref == "P2"
