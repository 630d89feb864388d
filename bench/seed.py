"""Bench-only borrowers: clones of the demo borrower Alex Morgan (HCF-1001) under their own references.

Every simulated borrower negotiates on a loan of its own, so one borrower's agreement never trips the
anti-stalling rule (renegotiations per 12 months) or a verification lock-out for another.

References are ``HCF-70001`` ... (``HCF-7xxxx``): the assistant only recognises ``HCF`` followed by
4-8 digits (bot/language/references.py), so a letter in the reference (``HCF-B0001``) would never be
understood. These rows live only in the bench's temporary database.
"""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.accounts.models import Borrower, Charge, ChargeKind, Loan, Payment, PaymentStatus, ScheduledInstalment
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.demo.seed import DEMO_LOANS, DemoLoan, _first_due, _schedule, add_months
from bot.verification.models import VerificationAttempt

TEMPLATE_REFERENCE = "HCF-1001"
FIRST_NUMBER = 70001


def bench_reference(index: int) -> str:
    """The reference of the index-th bench loan (0-based)."""
    return f"HCF-{FIRST_NUMBER + index}"


def bench_specs(count: int) -> list[DemoLoan]:
    template = next(spec for spec in DEMO_LOANS if spec.reference == TEMPLATE_REFERENCE)
    return [dataclasses.replace(template, reference=bench_reference(i), name=f"{template.name} (bench {i + 1})")
            for i in range(count)]


def clear_records(session: Session, references: list[str]) -> None:
    """Forget agreements, offers, promises and verification attempts recorded against these loans."""
    for table in (Agreement, OfferRecord, PromiseToPay, VerificationAttempt):
        session.execute(delete(table).where(table.loan_reference.in_(references)))


def seed_bench_loans(session: Session, today: date, count: int) -> list[str]:
    """Replace the bench loans (and everything recorded about them) with `count` fresh clones of Alex's."""
    specs = bench_specs(count)
    refs = [spec.reference for spec in specs]
    clear_records(session, refs)
    old = session.execute(select(Loan).where(Loan.reference.like("HCF-7____"))).scalars().all()
    for loan in old:
        for table in (Payment, Charge, ScheduledInstalment):
            session.execute(delete(table).where(table.loan_id == loan.id))
        borrower_id = loan.borrower_id
        session.delete(loan)
        session.flush()
        session.execute(delete(Borrower).where(Borrower.id == borrower_id))
    # Same construction as bot.demo.seed.seed_demo_data, for the cloned specs.
    for spec in specs:
        borrower = Borrower(full_name=spec.name, date_of_birth=spec.date_of_birth,
                            preferred_language=spec.language)
        first_due = _first_due(spec, today)
        schedule = _schedule(spec, first_due)
        loan = Loan(reference=spec.reference, borrower=borrower, currency="CNY",
                    principal=sum((row.principal for row in schedule), Decimal("0.00")),
                    annual_rate=spec.annual_rate, contractual_instalment=spec.instalment,
                    start_date=add_months(first_due, -1), instalments=schedule)
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
