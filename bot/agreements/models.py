"""Tables of negotiation outcomes. Agreements are written once and never updated."""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String, Text

from bot.storage.base import Base, Money


class OfferRecord(Base):
    """An offer shown to a borrower, accepted or not, with the policy rule that allowed it."""

    __tablename__ = "offer_records"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    loan_reference = Column(String(32), nullable=False, index=True)
    concessions = Column(String(200), nullable=False)
    monthly = Column(Money(), nullable=False)
    months = Column(Integer, nullable=False)
    total_paid = Column(Money(), nullable=False)
    authority = Column(String(16), nullable=False)
    rule = Column(String(500), nullable=False)
    policy_version = Column(String(40), nullable=False)
    terms_json = Column(Text, nullable=False)
    shown_at = Column(DateTime(), nullable=False)
    status = Column(String(16), nullable=False, default="shown")  # shown | accepted


class PromiseToPay(Base):
    __tablename__ = "promises_to_pay"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False)
    loan_reference = Column(String(32), nullable=False, index=True)
    amount = Column(Money(), nullable=False)
    due_on = Column(Date, nullable=False)
    status = Column(String(16), nullable=False, default="open")  # open | kept | partly_kept | broken
    recorded_at = Column(DateTime(), nullable=False)
    paid = Column(Money(), nullable=False, default=0)  # paid towards it, as reconciliation last found
    settled_at = Column(DateTime(), nullable=True)      # when it stopped being open


class Agreement(Base):
    """A signed repayment agreement: the full terms as accepted, frozen as JSON."""

    __tablename__ = "agreements"
    id = Column(Integer, primary_key=True)
    reference = Column(String(40), nullable=False, unique=True)
    loan_reference = Column(String(32), nullable=False, index=True)
    conversation_id = Column(String(200), nullable=False)
    offer_record_id = Column(ForeignKey("offer_records.id"), nullable=True, unique=True)  # one agreement per offer
    borrower_name = Column(String(200), nullable=False)
    language = Column(String(5), nullable=False)
    policy_version = Column(String(40), nullable=False)
    terms_json = Column(Text, nullable=False)
    acceptance_text = Column(String(2000), nullable=False)
    accepted_at = Column(DateTime(), nullable=False)
