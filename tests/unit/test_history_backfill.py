"""The days-past-due history rebuilt from imported books (`bot.lifecycle.history`, `bot.cli backfill-history`).

HCF-1001 in data/sample_import: 24 instalments of 1,250.00 due on the 14th from 2026-02-14; payments 1-7
arrived on their due dates; instalment 8 (due 2026-09-14) and everything after is unpaid; a late fee of 180.00
was raised on 2026-10-14. So the loan is current until 2026-09-14 and late by one more day every day after.
"""
from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.accounts.models import Loan
from bot.analytics.kpis import periods, transition_spans, transition_tables
from bot.analytics.queries import DayRange, dpd_transitions
from bot.lifecycle.history import backfill, books_as_of
from bot.lifecycle.models import LoanDayStatus
from bot.negotiation import load_policy
from tests.conftest import PROJECT_ROOT

SAMPLE = sorted(str(path) for path in (PROJECT_ROOT / "data" / "sample_import").glob("*.csv"))


def cli(tmp_path, url: str, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "APP_VAR_DIR": str(tmp_path / "var"), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def history(database, reference: str) -> dict[date, tuple[int, Decimal]]:
    with database.unit_of_work() as session:
        rows = session.execute(select(LoanDayStatus.as_of, LoanDayStatus.days_past_due, LoanDayStatus.arrears)
                               .join(Loan, Loan.id == LoanDayStatus.loan_id).where(Loan.reference == reference))
        return {as_of: (dpd, arrears) for as_of, dpd, arrears in rows}


def test_imported_books_get_their_history_worked_out_day_by_day(tmp_path, database):
    url = database.engine.url.render_as_string(hide_password=False)
    cli(tmp_path, url, "import", *SAMPLE)
    done = cli(tmp_path, url, "backfill-history", "--to", "2026-10-20", "--days", "40")
    assert "4 loans, 160 days written from the books, 0 days already recorded" in done.stdout
    days = history(database, "HCF-1001")
    assert len(days) == 40 and min(days) == date(2026, 9, 11) and max(days) == date(2026, 10, 20)
    assert days[date(2026, 9, 13)] == (0, Decimal("0.00"))
    assert days[date(2026, 9, 15)] == (1, Decimal("1250.00"))        # instalment 8, one day late
    assert days[date(2026, 10, 13)] == (29, Decimal("1250.00"))
    assert days[date(2026, 10, 20)] == (36, Decimal("2680.00"))      # + instalment 9 and the 180.00 fee
    # Run again over a longer span: the 40 days already there are kept, only the new ones are written.
    again = cli(tmp_path, url, "backfill-history", "--to", "2026-10-20", "--days", "45", "HCF-1001")
    assert "1 loans, 5 days written from the books, 40 days already recorded and kept" in again.stdout


def test_a_day_reconciliation_recorded_is_never_rewritten(database):
    with database.unit_of_work() as session:
        from tests.handoff.account_rows import fill_books
        fill_books(session, date(2026, 11, 20))
        loan = session.execute(select(Loan)).scalars().first()
        session.add(LoanDayStatus(loan_id=loan.id, as_of=date(2026, 11, 18), arrears=Decimal("1.00"), days_past_due=99))
        reference = loan.reference
    report = backfill(database, load_policy(PROJECT_ROOT / "policy.yml"), date(2026, 11, 17), date(2026, 11, 19),
                      references=[reference])
    assert (report.written, report.kept) == (2, 1)
    assert history(database, reference)[date(2026, 11, 18)] == (99, Decimal("1.00"))


def test_the_books_as_of_a_day_leave_out_later_payments_and_charges(database):
    with database.unit_of_work() as session:
        from bot.accounts.repository import AccountRepository
        from tests.handoff.account_rows import fill_books
        fill_books(session, date(2026, 11, 20))
        reference = session.execute(select(Loan.reference)).scalars().first()
        books = AccountRepository(session).books(reference)
        day = min(p.paid_on for p in books.payments)
        earlier = books_as_of(books, day)
        assert [p.paid_on for p in earlier.payments] == [p.paid_on for p in books.payments if p.paid_on <= day]
        assert all(c.charged_on <= day for c in earlier.charges)
        assert earlier.instalments == books.instalments


def test_cure_and_roll_rates_on_the_imported_books(tmp_path, database):
    """Weeks 2026-W41 (Oct 5-11) and W42 (Oct 12-18), each from the snapshot of the day before it opens
    to its last day. By hand from the sample's schedules and payments:
    HCF-1001 is 20, 27 and 34 days late on Oct 4, 11 and 18 (1-29, 1-29, 30-59); HCF-2002 misses the
    instalment due Oct 14 (current, current, 4 days late); HCF-3003 and HCF-4004 pay on the 8th (current)."""
    url = database.engine.url.render_as_string(hide_password=False)
    cli(tmp_path, url, "import", *SAMPLE)
    cli(tmp_path, url, "backfill-history", "--to", "2026-10-18", "--days", "15")  # from Oct 4
    weeks = periods(DayRange(date(2026, 10, 5), date(2026, 10, 18)), "week")
    with database.engine.connect() as connection:
        rows = dpd_transitions(connection, transition_spans(weeks))
    cure, roll_forward, roll = transition_tables(rows, weeks)
    assert cure.rows == [("2026-W41", 1, 0, 0.0), ("2026-W42", 1, 0, 0.0)]
    assert roll_forward.rows == [("2026-W41", 4, 0, 0.0), ("2026-W42", 4, 2, 0.5)]
    assert roll.rows == [
        ("2026-W41", "current", "current", 3, 1.0), ("2026-W41", "1-29", "1-29", 1, 1.0),
        ("2026-W42", "current", "current", 2, 0.6667), ("2026-W42", "current", "1-29", 1, 0.3333),
        ("2026-W42", "1-29", "30-59", 1, 1.0)]
