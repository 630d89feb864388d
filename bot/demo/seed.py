"""Create the demo borrowers idempotently: each run replaces them with fresh rows.

Due dates are placed relative to `today` so that the documented figures
(arrears, days past due) hold on the day the data is created.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from typing import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.accounts.models import Borrower, Charge, ChargeKind, Loan, Payment, PaymentStatus, ScheduledInstalment
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.lifecycle.models import AccountEvent, LoanDayStatus, PaymentAllocation, PlanStanding
from bot.verification.models import VerificationAttempt

CENT = Decimal("0.01")


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class DemoLoan:
    reference: str
    name: str
    language: str
    date_of_birth: date
    annual_rate: Decimal
    instalment: Decimal
    paid_count: int        # instalments paid before the first missed one
    missed_count: int
    future_count: int
    days_past_due: int     # of the oldest missed instalment; 0 = nothing missed
    next_due_in_days: int  # used only when nothing is missed
    late_fees: Decimal = Decimal("0.00")
    returned_last_payment: bool = False


DEMO_LOANS = (
    DemoLoan("HCF-1001", "Alex Morgan", "en", date(1988, 4, 12), Decimal("0.18"), Decimal("1250.00"),
             paid_count=7, missed_count=3, future_count=14, days_past_due=75, next_due_in_days=0,
             late_fees=Decimal("180.00")),
    DemoLoan("HCF-2002", "王芳 (Wang Fang)", "zh", date(1992, 11, 3), Decimal("0.156"), Decimal("1200.00"),
             paid_count=4, missed_count=2, future_count=18, days_past_due=45, next_due_in_days=0),
    DemoLoan("HCF-3003", "陈伟 (Chen Wei)", "zh", date(1979, 6, 25), Decimal("0.12"), Decimal("980.00"),
             paid_count=9, missed_count=1, future_count=14, days_past_due=20, next_due_in_days=0,
             returned_last_payment=True),
    DemoLoan("HCF-4004", "Jordan Lee", "en", date(1995, 1, 30), Decimal("0.144"), Decimal("1050.00"),
             paid_count=6, missed_count=0, future_count=18, days_past_due=0, next_due_in_days=10),
)


def _annuity_principal(instalment: Decimal, monthly_rate: Decimal, count: int) -> Decimal:
    """Present value of `count` equal instalments, to the cent."""
    value = instalment * (1 - (1 + monthly_rate) ** -count) / monthly_rate
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _amortise(balance: Decimal, rate: Decimal, instalment: Decimal, count: int, settle: bool) -> list[tuple]:
    """(amount, principal, interest) rows; with `settle` the last row clears the balance."""
    rows = []
    for number in range(1, count + 1):
        interest = (balance * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        principal = balance if settle and number == count else instalment - interest
        rows.append((principal + interest, principal, interest))
        balance -= principal
    return rows


def _schedule(spec: DemoLoan, first_due: date) -> list[ScheduledInstalment]:
    """An amortising schedule whose unpaid principal is the annuity value of the unpaid instalments."""
    rate = spec.annual_rate / 12
    unpaid = spec.missed_count + spec.future_count
    paid_rows = _amortise(_annuity_principal(spec.instalment, rate, spec.paid_count + unpaid), rate,
                          spec.instalment, spec.paid_count, settle=False)
    unpaid_rows = _amortise(_annuity_principal(spec.instalment, rate, unpaid), rate,
                            spec.instalment, unpaid, settle=True)
    return [
        ScheduledInstalment(number=number, due_date=add_months(first_due, number - 1),
                            amount=amount, principal=principal, interest=interest)
        for number, (amount, principal, interest) in enumerate(paid_rows + unpaid_rows, start=1)
    ]


def _first_due(spec: DemoLoan, today: date) -> date:
    anchor = (today - timedelta(days=spec.days_past_due) if spec.missed_count
              else today + timedelta(days=spec.next_due_in_days))
    return add_months(anchor, -spec.paid_count)


def seed_demo_data(session: Session, today: date) -> list[str]:
    """Replace the demo loans, and everything recorded about them, with fresh rows as of `today`.

    Returns their references. Only the demo references are touched.
    """
    return replace_loans(session, DEMO_LOANS, today)


def clear_loan_records(session: Session, references: Sequence[str]) -> None:
    """Forget agreements, offers, promises and verification attempts recorded against these loans."""
    for table in (PlanStanding, AccountEvent, Agreement, OfferRecord, PromiseToPay, VerificationAttempt):
        session.execute(delete(table).where(table.loan_reference.in_(references)))


def replace_loans(session: Session, specs: Sequence[DemoLoan], today: date) -> list[str]:
    """Create the loans of `specs` as of `today`, first deleting any loan with the same reference
    and every record about them (agreements, offers, promises, verification attempts)."""
    refs = [spec.reference for spec in specs]
    clear_loan_records(session, refs)
    old = session.execute(select(Loan).where(Loan.reference.in_(refs))).scalars().all()
    for loan in old:
        for table in (PaymentAllocation, LoanDayStatus, Payment, Charge, ScheduledInstalment):
            session.execute(delete(table).where(table.loan_id == loan.id))
        borrower_id = loan.borrower_id
        session.delete(loan)
        session.flush()
        session.execute(delete(Borrower).where(Borrower.id == borrower_id))
    for spec in specs:
        borrower = Borrower(full_name=spec.name, date_of_birth=spec.date_of_birth, preferred_language=spec.language)
        first_due = _first_due(spec, today)
        schedule = _schedule(spec, first_due)
        loan = Loan(
            reference=spec.reference, borrower=borrower, currency="CNY",
            principal=sum((row.principal for row in schedule), Decimal("0.00")),
            annual_rate=spec.annual_rate, contractual_instalment=spec.instalment,
            start_date=add_months(first_due, -1), instalments=schedule,
        )
        session.add(loan)
        session.flush()
        for row in schedule[: spec.paid_count]:
            session.add(Payment(loan_id=loan.id, instalment_id=row.id, amount=row.amount,
                                paid_on=row.due_date, status=PaymentStatus.SUCCEEDED))
        if spec.returned_last_payment:
            missed = schedule[spec.paid_count]
            session.add(Payment(loan_id=loan.id, instalment_id=missed.id, amount=missed.amount,
                                paid_on=missed.due_date, status=PaymentStatus.RETURNED,
                                note="direct debit returned by the borrower's bank"))
        if spec.late_fees:
            session.add(Charge(loan_id=loan.id, kind=ChargeKind.LATE_FEE, amount=spec.late_fees,
                               charged_on=today - timedelta(days=max(spec.days_past_due - 30, 0))))
    session.flush()
    return refs
