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


def test_payments_feed_and_reconciliation_on_postgres(pg_database):
    """The feed, the allocation and a promise kept, on PostgreSQL (row lock per loan, exact money)."""
    from bot.agreements.models import PromiseToPay
    from bot.agreements.service import record_promise
    from bot.lifecycle.feed import record_payments
    from bot.lifecycle.models import AccountEvent
    from bot.negotiation import load_policy
    from tests.conftest import PROJECT_ROOT

    policy = load_policy(PROJECT_ROOT / "policy.yml")
    now = datetime(2026, 11, 28, 10, 0)
    with pg_database.unit_of_work() as session:
        seed_demo_data(session, TODAY)
    with pg_database.unit_of_work() as session:
        promise_id = record_promise(session, conversation_id="pg", loan_reference="HCF-1001",
                                    amount=Decimal("1430.00"), due_on=TODAY + timedelta(days=3), now=now)
    row = {"payment_id": "PG-1", "loan_reference": "HCF-1001", "amount": "1430.00", "paid_on": TODAY.isoformat(),
           "status": "credited"}
    first = record_payments(pg_database, policy, [(1, row)], now=now, today=TODAY)
    again = record_payments(pg_database, policy, [(1, row)], now=now, today=TODAY)
    assert (first.recorded, again.duplicates) == (1, 1)
    with pg_database.unit_of_work() as session:
        alex = AccountRepository(session).statement("HCF-1001", TODAY)
        assert (alex.late_fees, alex.arrears) == (Decimal("0.00"), Decimal("2500.00"))
        assert session.get(PromiseToPay, promise_id).status == "kept"
        assert session.query(AccountEvent).filter_by(cause_ref="PG-1").count() == 1


def test_importing_the_demo_books_on_postgres_gives_the_demo_figures_and_is_idempotent(pg_database, tmp_path):
    """The import's PostgreSQL path (one multi-row upsert per batch) against the seeded figures."""
    from sqlalchemy import select

    from bot.accounts.models import Payment, ScheduledInstalment
    from bot.books.export import export_demo
    from bot.books.importer import import_books
    from bot.books.sources import source_files

    export_demo(tmp_path, TODAY)
    files = source_files(sorted(tmp_path.iterdir()))
    for _ in range(2):
        report = import_books(pg_database, files, batch_size=7)  # several batches per file
        assert report.rejected == 0 and report.wrote
    with pg_database.unit_of_work() as session:
        alex = AccountRepository(session).statement("HCF-1001", TODAY)
        rows = session.execute(select(ScheduledInstalment.id)).all(), session.execute(select(Payment.id)).all()
    assert (alex.arrears, alex.days_past_due, alex.outstanding_principal) == (Decimal("3930.00"), 75, Decimal("18634.56"))
    assert (len(rows[0]), len(rows[1])) == (96, 27)  # the same rows after the second import, none doubled
