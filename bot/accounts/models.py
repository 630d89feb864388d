"""Tables of the lender's books: borrowers, loans, instalment schedule, payments, charges."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    Boolean, Column, Date, DateTime, Enum, ForeignKey, Integer, String, UniqueConstraint,
)
from sqlalchemy.orm import relationship
from sqlalchemy.sql import func

from bot.storage.base import Base, Money, Rate


class PaymentStatus(str, enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETURNED = "returned"  # collected, then reversed by the borrower's bank


# How a lender's files and its core-banking API name a payment's status (docs/data-format.md,
# docs/core-banking-api.md): one vocabulary for both ways the books arrive.
PAYMENT_STATUS_WORDS = {"credited": PaymentStatus.SUCCEEDED, "returned": PaymentStatus.RETURNED,
                        "reversed": PaymentStatus.RETURNED,  # withdrawn by the lender: pays nothing, as returned
                        "failed": PaymentStatus.FAILED}
MAX_INSTALMENTS = 1200  # instalment numbers run 1..1200 (100 years of monthly instalments)


class ChargeKind(str, enum.Enum):
    LATE_FEE = "late_fee"
    PENALTY_INTEREST = "penalty_interest"


# What an erased borrower's row holds (bot/privacy): the column is NOT NULL, and this date
# never verifies (bot.verification.service refuses it; the date parser rejects ages over 120).
ERASED_DATE_OF_BIRTH = date(1900, 1, 1)
ERASED_NAME_PREFIX = "erased "


class Borrower(Base):
    __tablename__ = "borrowers"
    id = Column(Integer, primary_key=True)
    external_id = Column(String(64), nullable=True, unique=True)  # the lender's own key (import)
    full_name = Column(String(200), nullable=False)
    date_of_birth = Column(Date, nullable=False)
    preferred_language = Column(String(5), nullable=False, default="en")
    time_zone = Column(String(64), nullable=True)  # IANA name, e.g. Asia/Shanghai
    jurisdiction = Column(String(8), nullable=True)  # whose contact rules apply (policy.yml outreach); NULL: default
    loans = relationship("Loan", back_populates="borrower")


class Loan(Base):
    __tablename__ = "loans"
    id = Column(Integer, primary_key=True)
    reference = Column(String(32), nullable=False, unique=True)
    borrower_id = Column(ForeignKey("borrowers.id"), nullable=False)
    currency = Column(String(3), nullable=False)
    principal = Column(Money(), nullable=False)
    annual_rate = Column(Rate(), nullable=False)
    contractual_instalment = Column(Money(), nullable=False)
    start_date = Column(Date, nullable=False)
    borrower = relationship("Borrower", back_populates="loans")
    instalments = relationship("ScheduledInstalment", order_by="ScheduledInstalment.number", back_populates="loan")
    payments = relationship("Payment", back_populates="loan")
    charges = relationship("Charge", back_populates="loan")


class ScheduledInstalment(Base):
    __tablename__ = "scheduled_instalments"
    __table_args__ = (UniqueConstraint("loan_id", "number"),)
    id = Column(Integer, primary_key=True)
    loan_id = Column(ForeignKey("loans.id"), nullable=False)
    number = Column(Integer, nullable=False)
    due_date = Column(Date, nullable=False)
    amount = Column(Money(), nullable=False)
    principal = Column(Money(), nullable=False)
    interest = Column(Money(), nullable=False)
    loan = relationship("Loan", back_populates="instalments")


class Payment(Base):
    __tablename__ = "payments"
    id = Column(Integer, primary_key=True)
    external_id = Column(String(64), nullable=True, unique=True)  # the lender's payment id (import)
    loan_id = Column(ForeignKey("loans.id"), nullable=False)
    instalment_id = Column(ForeignKey("scheduled_instalments.id"), nullable=True)
    amount = Column(Money(), nullable=False)
    paid_on = Column(Date, nullable=False)
    status = Column(Enum(PaymentStatus, native_enum=False, length=16), nullable=False)
    note = Column(String(200), nullable=True)
    source = Column(String(16), nullable=True)          # import | feed | demo (NULL: before the feed existed)
    received_at = Column(DateTime(), nullable=True)     # when the feed delivered it
    loan = relationship("Loan", back_populates="payments")


class Charge(Base):
    __tablename__ = "charges"
    id = Column(Integer, primary_key=True)
    external_id = Column(String(64), nullable=True, unique=True)  # the lender's charge id (import)
    loan_id = Column(ForeignKey("loans.id"), nullable=False)
    kind = Column(Enum(ChargeKind, native_enum=False, length=24), nullable=False)
    amount = Column(Money(), nullable=False)
    charged_on = Column(Date, nullable=False)
    waived = Column(Boolean, nullable=False, default=False)
    loan = relationship("Loan", back_populates="charges")


class ContactOptOut(Base):
    """A borrower's request to stop being contacted, recorded and honoured."""

    __tablename__ = "contact_opt_outs"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    loan_reference = Column(String(32), nullable=True)
    channel = Column(String(32), nullable=True)
    message = Column(String(2000), nullable=True)
    recorded_at = Column(DateTime(), nullable=False, server_default=func.now())

