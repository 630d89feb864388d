"""The demo borrowers carry exactly the figures the README promises."""
from __future__ import annotations

from decimal import Decimal

import pytest

from bot.accounts.repository import AccountRepository
from bot.demo.seed import seed_demo_data
from tests.conftest import TODAY


def statement(db, reference, today=TODAY):
    with db.unit_of_work() as session:
        return AccountRepository(session).statement(reference, today)


def test_alex_morgan_owes_3930_over_75_days_with_fees(demo_database):
    s = statement(demo_database, "HCF-1001")
    assert s.arrears == Decimal("3930.00")
    assert s.missed_amount == Decimal("3750.00")
    assert s.late_fees == Decimal("180.00")
    assert s.penalty_interest == Decimal("0.00")
    assert s.days_past_due == 75
    assert len(s.missed_instalments) == 3
    assert s.remaining_instalments == 14
    assert s.outstanding_principal == Decimal("18634.56")
    assert s.next_amount == Decimal("1250.00")
    assert s.next_due > TODAY


def test_wang_fang_owes_2400_over_45_days(demo_database):
    s = statement(demo_database, "HCF-2002")
    assert (s.arrears, s.days_past_due, len(s.missed_instalments)) == (Decimal("2400.00"), 45, 2)
    assert s.remaining_instalments == 18
    assert s.outstanding_principal == Decimal("21014.35")
    assert s.annual_rate == Decimal("0.156")


def test_chen_wei_returned_payment_leaves_980_overdue(demo_database):
    s = statement(demo_database, "HCF-3003")
    assert (s.arrears, s.days_past_due, s.returned_payments) == (Decimal("980.00"), 20, 1)


def test_jordan_lee_has_nothing_overdue_and_a_next_instalment(demo_database):
    s = statement(demo_database, "HCF-4004")
    assert not s.is_overdue
    assert s.arrears == Decimal("0.00")
    assert s.next_amount == Decimal("1050.00")


def test_unknown_reference_has_no_statement(demo_database):
    assert statement(demo_database, "HCF-9999") is None


def test_seeding_twice_replaces_rather_than_duplicates(demo_database):
    with demo_database.unit_of_work() as session:
        seed_demo_data(session, TODAY)
    assert statement(demo_database, "HCF-1001").arrears == Decimal("3930.00")


@pytest.mark.parametrize("reference", ["HCF-1001", "HCF-2002", "HCF-3003", "HCF-4004"])
def test_schedule_principal_and_interest_add_up_to_each_amount(demo_database, reference):
    from sqlalchemy import select
    from bot.accounts.models import Loan, ScheduledInstalment
    with demo_database.unit_of_work() as session:
        loan = session.execute(select(Loan).where(Loan.reference == reference)).scalar_one()
        rows = session.execute(select(ScheduledInstalment).where(ScheduledInstalment.loan_id == loan.id)).scalars()
        for row in rows:
            assert row.principal + row.interest == row.amount
            assert row.amount > 0
