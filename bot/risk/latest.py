"""The newest stored score of each loan (light: no numpy or scikit-learn, so the queue can read it)."""
from __future__ import annotations

import json
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.risk.models import RiskScore

BATCH = 500


def latest_scores(session: Session, loan_references: Iterable[str]) -> dict[str, RiskScore]:
    """Each loan's most recent score (loans never scored are absent)."""
    references = sorted({r for r in loan_references if r})
    found: dict[str, RiskScore] = {}
    for start in range(0, len(references), BATCH):
        batch = references[start:start + BATCH]
        newest = (select(RiskScore.loan_reference, func.max(RiskScore.scored_at).label("at"))
                  .where(RiskScore.loan_reference.in_(batch)).group_by(RiskScore.loan_reference).subquery())
        rows = session.execute(
            select(RiskScore).join(newest, (RiskScore.loan_reference == newest.c.loan_reference)
                                   & (RiskScore.scored_at == newest.c.at))
            .order_by(RiskScore.id)).scalars()
        for row in rows:
            found[row.loan_reference] = row
    return found


def score_json(score: RiskScore | None) -> dict | None:
    """A score as the console shows it: probability, band, reasons (largest first), model version, when."""
    if score is None:
        return None
    return {"probability": round(score.probability, 4), "band": score.band,
            "reasons": json.loads(score.reasons or "[]"), "model_version": score.model_version,
            "scored_at": score.scored_at.isoformat(timespec="seconds") + "Z"}
