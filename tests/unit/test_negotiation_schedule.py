"""Dated instalment schedules and the money arithmetic under them."""

from datetime import date
from decimal import Decimal

import pytest

from bot.negotiation import (
    Finances,
    affordable_instalment,
    cents_up,
    due_date,
    instalment_schedule,
    level_instalment,
    load_policy,
    monthly_rate,
    monthly_surplus,
    to_cents,
)

from pathlib import Path

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policy.yml")


def test_due_dates_keep_the_day_of_month_and_clamp_to_month_end():
    first = date(2027, 1, 31)

    assert [due_date(first, n) for n in range(4)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert due_date(date(2027, 12, 29), 2) == date(2028, 2, 29)


def test_rounding_is_to_the_cent_half_up_and_up_for_instalments():
    assert to_cents(Decimal("1.005")) == Decimal("1.01")
    assert to_cents(Decimal("1.0049")) == Decimal("1.00")
    assert cents_up(Decimal("1.001")) == Decimal("1.01")
    assert cents_up(Decimal("1.00")) == Decimal("1.00")


def test_level_instalment_is_the_annuity_or_an_even_split_when_interest_is_frozen():
    assert monthly_rate(Decimal("0.18")) == Decimal("0.015")
    assert to_cents(level_instalment(Decimal("18634.56"), Decimal("0.015"), 17)) == Decimal("1250.00")
    assert level_instalment(Decimal("1200"), Decimal("0"), 12) == Decimal("100")
    assert level_instalment(Decimal("1200"), Decimal("0.015"), 12, interest_free_months=12) == Decimal("100")


def test_interest_free_months_lower_the_instalment():
    full = level_instalment(Decimal("10000"), Decimal("0.015"), 12)
    eased = level_instalment(Decimal("10000"), Decimal("0.015"), 12, interest_free_months=3)

    assert eased < full


def test_a_schedule_puts_the_rounding_remainder_on_the_last_instalment():
    schedule = instalment_schedule(
        balance=Decimal("1000.00"),
        rate=Decimal("0"),
        monthly=Decimal("333.34"),
        months=3,
        first_due=date(2027, 1, 15),
    )

    assert [instalment.amount for instalment in schedule.instalments] == [
        Decimal("333.34"),
        Decimal("333.34"),
        Decimal("333.32"),
    ]
    assert sum(instalment.principal for instalment in schedule.instalments) == Decimal("1000.00")


def test_a_schedule_with_interest_splits_each_payment_into_principal_and_interest():
    schedule = instalment_schedule(
        balance=Decimal("18634.56"),
        rate=Decimal("0.015"),
        monthly=Decimal("1250.00"),
        months=17,
        first_due=date(2027, 1, 15),
    )

    first = schedule.instalments[0]
    assert (first.interest, first.principal) == (Decimal("279.52"), Decimal("970.48"))
    assert sum(instalment.principal for instalment in schedule.instalments) == Decimal("18634.56")
    assert abs(schedule.instalments[-1].amount - Decimal("1250.00")) < Decimal("0.10")


def test_waived_months_charge_no_interest_and_record_what_was_waived():
    schedule = instalment_schedule(
        balance=Decimal("12000.00"),
        rate=Decimal("0.01"),
        monthly=Decimal("1100.00"),
        months=None,
        first_due=date(2027, 1, 15),
        interest_free_months=2,
    )

    assert [instalment.interest for instalment in schedule.instalments[:2]] == [Decimal("0.00")] * 2
    assert schedule.waived_interest == Decimal("120.00") + Decimal("109.00")
    assert schedule.instalments[2].interest > 0


def test_a_grace_period_moves_nothing_into_the_schedule_but_frozen_interest_is_waived():
    schedule = instalment_schedule(
        balance=Decimal("12000.00"),
        rate=Decimal("0.01"),
        monthly=Decimal("1100.00"),
        months=12,
        first_due=date(2027, 3, 15),
        grace_months=2,
        interest_free_months=2,
    )

    assert schedule.instalments[0].due == date(2027, 3, 15)
    assert schedule.waived_interest == Decimal("240.00")
    assert schedule.instalments[0].interest == Decimal("120.00")


def test_a_grace_period_with_interest_accruing_charges_it_as_interest_later():
    schedule = instalment_schedule(
        balance=Decimal("12000.00"),
        rate=Decimal("0.01"),
        monthly=Decimal("1200.00"),
        months=None,
        first_due=date(2027, 3, 15),
        grace_months=2,
    )

    assert schedule.instalments[0].interest == Decimal("120.00") + Decimal("121.20") + Decimal("122.41")
    assert sum(instalment.principal for instalment in schedule.instalments) == Decimal("12000.00")


def test_surplus_is_never_negative_and_the_affordable_share_comes_from_policy():
    assert monthly_surplus(Finances(Decimal("3000"), Decimal("5000")), POLICY) == Decimal("0.00")
    assert affordable_instalment(Finances(Decimal("3000"), Decimal("5000")), POLICY) == Decimal("0.00")
    assert affordable_instalment(Finances(Decimal("9000"), Decimal("7200")), POLICY) == Decimal("1260.00")


def test_other_unsecured_debts_share_the_surplus_pro_rata():
    finances = Finances(Decimal("9000"), Decimal("7200"), other_unsecured_debt_payments=Decimal("1250"))

    assert affordable_instalment(finances, POLICY, Decimal("1250")) == Decimal("630.00")


def test_without_our_instalment_other_debt_payments_come_off_the_share_in_full():
    finances = Finances(Decimal("9000"), Decimal("7200"), other_unsecured_debt_payments=Decimal("1000"))

    assert affordable_instalment(finances, POLICY) == Decimal("260.00")


@pytest.mark.parametrize("months", [1, 7, 60])
def test_level_instalment_repays_the_balance(months):
    instalment = level_instalment(Decimal("5000"), Decimal("0.02"), months)
    balance = Decimal("5000")
    for _ in range(months):
        balance = balance * Decimal("1.02") - instalment

    assert abs(balance) < Decimal("0.000001")
