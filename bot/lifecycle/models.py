"""Tables of the account lifecycle: how payments were applied, the standing of each plan, the
days-past-due history, and every change of state with its cause (kept for audit)."""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint

from bot.storage.base import Base, Money


class PaymentAllocation(Base):
    """One part of a payment applied to one instalment component or one charge, by the policy's rule.

    Recomputed for the whole loan whenever its payments change (a returned payment re-flows the later
    ones), so the rows always equal what `bot.lifecycle.allocation.allocate` says of the books."""

    __tablename__ = "payment_allocations"
    id = Column(Integer, primary_key=True)
    payment_id = Column(ForeignKey("payments.id", ondelete="CASCADE"), nullable=False, index=True)
    loan_id = Column(ForeignKey("loans.id"), nullable=False, index=True)
    instalment_id = Column(ForeignKey("scheduled_instalments.id"), nullable=True)
    charge_id = Column(ForeignKey("charges.id"), nullable=True)
    component = Column(String(16), nullable=False)  # fee | penalty_interest | interest | principal | unapplied
    amount = Column(Money(), nullable=False)
    rule = Column(String(80), nullable=False)       # the policy rule and version that placed it


class PlanStanding(Base):
    """Where a signed agreement stands today. The agreement itself is never updated."""

    __tablename__ = "plan_standings"
    id = Column(Integer, primary_key=True)
    agreement_id = Column(ForeignKey("agreements.id"), nullable=False, unique=True)
    loan_reference = Column(String(32), nullable=False, index=True)
    # pending (awaiting the good-faith payment) | active | in_arrears | broken | lapsed | completed
    state = Column(String(16), nullable=False)
    paid = Column(Money(), nullable=False)           # paid towards the plan since it was agreed
    due = Column(Money(), nullable=False)            # what the plan asked for by today
    changed_at = Column(DateTime(), nullable=False)


class LoanDayStatus(Base):
    """Arrears and days past due of a loan as reconciliation found them on one day."""

    __tablename__ = "loan_day_status"
    __table_args__ = (UniqueConstraint("loan_id", "as_of"),)
    id = Column(Integer, primary_key=True)
    loan_id = Column(ForeignKey("loans.id"), nullable=False)
    as_of = Column(Date, nullable=False)
    arrears = Column(Money(), nullable=False)
    days_past_due = Column(Integer, nullable=False)


class AccountEvent(Base):
    """A change of state of a promise, a plan or a loan, with what caused it."""

    __tablename__ = "account_events"
    id = Column(Integer, primary_key=True)
    loan_reference = Column(String(32), nullable=False, index=True)
    subject = Column(String(16), nullable=False)      # promise | agreement | payment | loan
    subject_id = Column(String(64), nullable=False)
    from_state = Column(String(16), nullable=True)
    to_state = Column(String(16), nullable=False)
    cause = Column(String(16), nullable=False)        # payment | rule | feed | operator
    cause_ref = Column(String(120), nullable=False)   # the payment id, or the policy rule and its version
    detail = Column(Text, nullable=True)              # JSON: amounts and dates the decision read
    occurred_on = Column(Date, nullable=False)        # the business day the change belongs to
    recorded_at = Column(DateTime(), nullable=False, index=True)
