"""Reads of the lender's books for one unit of work."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.arrears import ArrearsStatement, ChargeLine, InstalmentLine, arrears_statement
from bot.accounts.models import Borrower, Charge, ContactOptOut, Loan, Payment, PaymentStatus, ScheduledInstalment
from bot.lifecycle.allocation import DueCharge, DueInstalment, Receipt, Share, allocate

DEFAULT_ORDER = ("fees", "interest", "principal")


@dataclass(frozen=True)
class LoanBooks:
    """One loan's rows, as read: what the statement and the allocation are computed from."""

    loan: Loan
    instalments: list[ScheduledInstalment]
    payments: list[Payment]
    charges: list[Charge]

    def shares(self, order: tuple[str, ...]) -> list[Share]:
        """How the succeeded payments are applied, keyed by row ids."""
        return allocate(
            [Receipt(p.id, p.amount, p.paid_on, p.instalment_id) for p in self.payments
             if p.status == PaymentStatus.SUCCEEDED],
            [DueInstalment(i.id, i.due_date, i.principal, i.interest) for i in self.instalments],
            [DueCharge(c.id, c.kind.value, c.amount, c.charged_on) for c in self.charges if not c.waived],
            order,
        )


@dataclass(frozen=True)
class Identity:
    """What a borrower proves they know: the loan's reference and the borrower's date of birth."""

    reference: str
    full_name: str
    date_of_birth: date


class AccountRepository:
    """Loans and what is owed on them, looked up by reference, in the local tables.

    One of the account sources (`bot.accounts.source.AccountSource`).

    `order` is the policy's allocation order (policy.yml `payments.within_instalment`)."""

    def __init__(self, session: Session, order: tuple[str, ...] = DEFAULT_ORDER) -> None:
        self.session = session
        self.order = order

    def loan_by_reference(self, reference: str) -> Loan | None:
        return self.session.execute(select(Loan).where(Loan.reference == reference)).scalar_one_or_none()

    def borrower_of(self, loan: Loan) -> Borrower:
        return self.session.get(Borrower, loan.borrower_id)

    def identity(self, reference: str) -> Identity | None:
        row = self.session.execute(
            select(Loan.reference, Borrower.full_name, Borrower.date_of_birth)
            .join(Borrower, Loan.borrower_id == Borrower.id)
            .where(Loan.reference == reference)
        ).one_or_none()
        return None if row is None else Identity(row.reference, row.full_name, row.date_of_birth)

    def books(self, reference: str) -> LoanBooks | None:
        loan = self.loan_by_reference(reference)
        if loan is None:
            return None

        def rows(model):
            return list(self.session.execute(select(model).where(model.loan_id == loan.id)).scalars())
        return LoanBooks(loan, rows(ScheduledInstalment), rows(Payment), rows(Charge))

    def statement(self, reference: str, today: date) -> ArrearsStatement | None:
        books = self.books(reference)
        return None if books is None else statement_of(books, today, self.order)

    def record_opt_out(self, conversation_id: str, loan_reference: str | None, channel: str | None, message: str) -> None:
        self.session.add(ContactOptOut(
            conversation_id=conversation_id, loan_reference=loan_reference, channel=channel, message=message[:2000],
        ))


def statement_of(books: LoanBooks, today: date, order: tuple[str, ...] = DEFAULT_ORDER) -> ArrearsStatement:
    """The arrears statement of `books` as of `today`, payments applied by `order`."""
    paid: dict[tuple[object, str], Decimal] = defaultdict(lambda: Decimal("0.00"))
    for share in books.shares(order):
        paid[(share.charge if share.charge is not None else share.instalment, share.component)] += share.amount
    loan = books.loan
    return arrears_statement(
        loan_reference=loan.reference,
        currency=loan.currency,
        annual_rate=loan.annual_rate,
        contractual_instalment=loan.contractual_instalment,
        instalments=[
            InstalmentLine(i.number, i.due_date, i.amount, i.principal, i.interest,
                           principal_paid=paid[(i.id, "principal")], interest_paid=paid[(i.id, "interest")])
            for i in books.instalments
        ],
        charges=[ChargeLine(c.kind.value, c.amount, c.waived, paid[(c.id, c.kind.value)]) for c in books.charges],
        returned_payments=sum(1 for p in books.payments if p.status == PaymentStatus.RETURNED),
        today=today,
    )
