"""Days-past-due history rebuilt from a lender's imported books, so cure and roll rates start on day one.

Reconciliation notes each loan's arrears and days past due once a day (`LoanDayStatus`), from the day the
product runs. A lender importing its books brings months of schedule and payments, but no such history, so
the cure and roll rates of the analytics page (which compare the snapshots opening and closing a period)
would stay empty for weeks. `backfill` recomputes the missing days from the books as they stood on each day:
instalments due by then, payments received by then, charges raised by then.

What a day already has is kept: a row written by the daily reconciliation recorded what was known that day
(a payment reported late changes the books, not that day's record). Two approximations, both documented in
docs/analytics.md: a payment now marked returned is counted as returned on every day from its payment date,
and a charge waived later is treated as waived from the day it was raised.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

from sqlalchemy import select

from bot.accounts.models import Loan
from bot.accounts.repository import AccountRepository, LoanBooks, statement_of
from bot.lifecycle.models import LoanDayStatus
from bot.negotiation.policy import Policy
from bot.storage import Database


@dataclass
class BackfillReport:
    loans: int = 0
    written: int = 0   # days computed from the books
    kept: int = 0      # days that already had a row (reconciliation's own), left as they were

    def line(self) -> str:
        return (f"days-past-due history: {self.loans} loans, {self.written} days written from the books, "
                f"{self.kept} days already recorded and kept")


def books_as_of(books: LoanBooks, day: date) -> LoanBooks:
    """The books as they stood at the end of `day`: payments received and charges raised by then."""
    return LoanBooks(books.loan, books.instalments,
                     [p for p in books.payments if p.paid_on <= day],
                     [c for c in books.charges if c.charged_on <= day])


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def backfill(database: Database, policy: Policy, first: date, last: date,
             references: Iterable[str] | None = None) -> BackfillReport:
    """Write the missing `LoanDayStatus` rows of `first`..`last` for `references` (default: every loan),
    one transaction per loan."""
    if first > last:
        raise ValueError("the first day comes after the last")
    report = BackfillReport()
    order = policy.payments.within_instalment
    with database.unit_of_work() as session:
        wanted = sorted(references) if references is not None else \
            list(session.execute(select(Loan.reference).order_by(Loan.reference)).scalars())
    for reference in wanted:
        with database.unit_of_work() as session:
            books = AccountRepository(session, order).books(reference)
            if books is None:
                continue
            report.loans += 1
            recorded = set(session.execute(select(LoanDayStatus.as_of).where(
                LoanDayStatus.loan_id == books.loan.id, LoanDayStatus.as_of.between(first, last))).scalars())
            for day in days(first, last):
                if day in recorded:
                    report.kept += 1
                    continue
                statement = statement_of(books_as_of(books, day), day, order)
                session.add(LoanDayStatus(loan_id=books.loan.id, as_of=day, arrears=statement.arrears,
                                          days_past_due=statement.days_past_due))
                report.written += 1
    return report
