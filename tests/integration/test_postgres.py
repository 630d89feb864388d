"""The application's data layer on a real PostgreSQL: migrations, exact money, lock-out."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.accounts.repository import AccountRepository
from bot.demo.seed import seed_demo_data
from bot.verification.service import LockoutRule, Outcome, verify_identity

pytestmark = pytest.mark.slow
TODAY = date(2026, 11, 28)


def test_migrations_and_demo_figures_are_exact_on_postgres(pg_database):
    with pg_database.unit_of_work() as session:
        seed_demo_data(session, TODAY)
    with pg_database.unit_of_work() as session:
        alex = AccountRepository(session).statement("HCF-1001", TODAY)
        wang = AccountRepository(session).statement("HCF-2002", TODAY)
    assert (alex.arrears, alex.days_past_due, alex.outstanding_principal) == (Decimal("3930.00"), 75, Decimal("18634.56"))
    assert (wang.arrears, wang.days_past_due, wang.outstanding_principal) == (Decimal("2400.00"), 45, Decimal("21014.35"))
    assert wang.annual_rate == Decimal("0.156")


def test_verification_lock_is_shared_by_every_process_on_postgres(pg_database):
    from bot.storage import Database

    with pg_database.unit_of_work() as session:
        seed_demo_data(session, TODAY)
    now = datetime(2026, 11, 28, 9, 0)
    rule = LockoutRule(3, 30)
    for minute in range(3):
        with pg_database.unit_of_work() as session:
            verify_identity(session, loan_reference="HCF-1001", date_of_birth=date(2000, 1, 1),
                            conversation_id="pg", channel="rest", now=now + timedelta(minutes=minute), rule=rule)
    other_process = Database(pg_database.url)
    try:
        with other_process.unit_of_work() as session:
            # The same conversation, now served by another process: still locked, even with the right date.
            same = verify_identity(session, loan_reference="HCF-1001", date_of_birth=date(1988, 4, 12),
                                   conversation_id="pg", channel="rest", now=now + timedelta(minutes=5), rule=rule)
        with other_process.unit_of_work() as session:
            # The real borrower in another conversation is not locked out by those failures.
            borrower = verify_identity(session, loan_reference="HCF-1001", date_of_birth=date(1988, 4, 12),
                                       conversation_id="pg2", channel="rest", now=now + timedelta(minutes=5), rule=rule)
    finally:
        other_process.dispose()
    assert same.outcome is Outcome.LOCKED
    assert borrower.outcome is Outcome.VERIFIED
