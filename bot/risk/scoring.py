"""Scoring the book: train (on the synthetic portfolio) when no model is stored, then score every active
loan from the database and store one `RiskScore` per loan with the model version, in one bulk insert."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from bot.risk import model as risk_model
from bot.risk.features import FEATURES, facts_from_database, facts_from_portfolio, feature_matrix
from bot.risk.models import RiskScore
from bot.risk.synthetic import generate
from bot.storage import Database

TRAINING_LOANS = 40_000
TRAINING_SEED = 7


def train_on_synthetic(loans: int = TRAINING_LOANS, seed: int = TRAINING_SEED) -> risk_model.StoredModel:
    """The logistic model fitted on a seeded synthetic portfolio, versioned by its data and code."""
    portfolio = generate(loans, seed=seed)
    x = feature_matrix(facts_from_portfolio(portfolio))
    fitted = risk_model.train_logistic(x, portfolio.label)
    return risk_model.StoredModel(
        version=risk_model.version_of(x, portfolio.label), model=fitted, features=FEATURES,
        trained_on=f"synthetic portfolio, {loans} loans, seed {seed}",
        training_scores=fitted.predict_proba(x)[:, 1])


def current_or_trained(var_dir: Path) -> tuple[risk_model.StoredModel, bool]:
    """The stored model, or a new one trained on the synthetic portfolio and saved (True when trained)."""
    stored = risk_model.load(var_dir)
    if stored is not None:
        return stored, False
    stored = train_on_synthetic()
    risk_model.save(stored, var_dir)
    return stored, True


@dataclass(frozen=True)
class ScoringRun:
    version: str
    loans: int
    bands: dict[str, int]
    psi: float
    seconds_features: float
    seconds_scoring: float
    seconds_storing: float


def score_book(database: Database, stored: risk_model.StoredModel, today: date, now: datetime) -> ScoringRun:
    """Score every active loan as of `today` and store the scores (one unit of work)."""
    started = time.perf_counter()
    with database.unit_of_work() as session:
        facts = facts_from_database(session, today)
        x = feature_matrix(facts)
        featured = time.perf_counter()
        probability = stored.predict(x) if len(facts) else np.zeros(0)
        reasons = risk_model.reason_codes_json(stored.model, x) if len(facts) else []
        bands = [risk_model.band(p) for p in probability]
        scored = time.perf_counter()
        if len(facts):
            session.execute(insert(RiskScore), [
                {"loan_reference": reference, "scored_at": now, "model_version": stored.version,
                 "probability": p, "band": b, "reasons": r}
                for reference, p, b, r in zip(facts.references, probability.tolist(), bands, reasons)])
    stored_at = time.perf_counter()
    return ScoringRun(
        version=stored.version, loans=len(facts),
        bands={name: bands.count(name) for _, name in risk_model.BANDS},
        psi=risk_model.psi(stored.training_scores, probability) if len(facts) else 0.0,
        seconds_features=featured - started, seconds_scoring=scored - featured, seconds_storing=stored_at - scored)
