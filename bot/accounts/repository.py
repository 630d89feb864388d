"""Reads of the lender's books for one unit of work."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.arrears import ArrearsStatement, ChargeLine, InstalmentLine, arrears_statement
from bot.accounts.models import Borrower, Charge, ContactOptOut, Loan, Payment, PaymentStatus, ScheduledInstalment


class AccountRepository:
    """Loans and what is owed on them, looked up by reference."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def loan_by_reference(self, reference: str) -> Loan | None:
        return self.session.execute(select(Loan).where(Loan.reference == reference)).scalar_one_or_none()

    def borrower_of(self, loan: Loan) -> Borrower:
        return self.session.get(Borrower, loan.borrower_id)

    def statement(self, reference: str, today: date) -> ArrearsStatement | None:
        loan = self.loan_by_reference(reference)
        if loan is None:
            return None
        instalments = self.session.execute(
            select(ScheduledInstalment).where(ScheduledInstalment.loan_id == loan.id)
        ).scalars().all()
        payments = self.session.execute(select(Payment).where(Payment.loan_id == loan.id)).scalars().all()
        paid: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for payment in payments:
            if payment.status == PaymentStatus.SUCCEEDED and payment.instalment_id is not None:
                paid[payment.instalment_id] += payment.amount
        charges = self.session.execute(select(Charge).where(Charge.loan_id == loan.id)).scalars().all()
        return arrears_statement(
            loan_reference=loan.reference,
            currency=loan.currency,
            annual_rate=loan.annual_rate,
            contractual_instalment=loan.contractual_instalment,
            instalments=[
                InstalmentLine(i.number, i.due_date, i.amount, i.principal, i.interest, paid[i.id])
                for i in instalments
            ],
            charges=[ChargeLine(c.kind.value, c.amount, c.waived) for c in charges],
            returned_payments=sum(1 for p in payments if p.status == PaymentStatus.RETURNED),
            today=today,
        )

    def record_opt_out(self, conversation_id: str, loan_reference: str | None, channel: str | None, message: str) -> None:
        self.session.add(ContactOptOut(
            conversation_id=conversation_id, loan_reference=loan_reference, channel=channel, message=message[:2000],
        ))
