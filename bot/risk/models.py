"""The stored scores: one row per loan per scoring run, with the model version and its reasons."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, Integer, String, Text

from bot.storage.base import Base


class RiskScore(Base):
    """A loan's probability of rolling into 30+ days past due within 30 days, as one model saw it."""

    __tablename__ = "risk_scores"
    id = Column(Integer, primary_key=True)
    loan_reference = Column(String(32), nullable=False)
    scored_at = Column(DateTime(), nullable=False)
    model_version = Column(String(64), nullable=False)
    probability = Column(Float, nullable=False)
    band = Column(String(16), nullable=False)           # low | medium | high
    reasons = Column(Text, nullable=False, default="[]")  # JSON: top contributing features, largest first


Index("ix_risk_scores_loan_scored", RiskScore.loan_reference, RiskScore.scored_at)
