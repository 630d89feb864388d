"""The public-data check: the same modelling (standardised logistic regression, gradient-boosting challenger)
on the UCI Statlog German credit data vendored under data/public/german_credit/ (CC BY 4.0, see its
ATTRIBUTION.md), with the protected attributes left out of the features and kept for the fairness table."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

DATA = Path(__file__).resolve().parents[2] / "data" / "public" / "german_credit" / "german_credit.csv"
NUMERIC = ("duration_months", "credit_amount", "instalment_rate_pct", "residence_since", "existing_credits",
           "people_liable")
PROTECTED = ("age_years", "personal_status_sex", "foreign_worker")
LABEL = "class"  # 1 good, 2 bad
FEMALE_CODES = frozenset({"A92", "A95"})  # personal_status_sex codes of women in the UCI description


@dataclass
class GermanCredit:
    columns: list[str]            # the feature columns, protected attributes excluded
    rows: np.ndarray              # (n, len(columns)) object array
    bad: np.ndarray               # 1 when the applicant was a bad credit risk
    protected: dict[str, np.ndarray]


def load(path: Path = DATA) -> GermanCredit:
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    columns = [name for name in records[0] if name not in PROTECTED and name != LABEL]
    return GermanCredit(
        columns=columns,
        rows=np.array([[record[name] for name in columns] for record in records], dtype=object),
        bad=np.array([int(record[LABEL] == "2") for record in records]),
        protected={name: np.array([record[name] for record in records], dtype=object) for name in PROTECTED})


def _encoder(data: GermanCredit) -> ColumnTransformer:
    numeric = [i for i, name in enumerate(data.columns) if name in NUMERIC]
    categorical = [i for i, name in enumerate(data.columns) if name not in NUMERIC]
    return ColumnTransformer([("numeric", StandardScaler(), numeric),
                              ("categorical", OneHotEncoder(handle_unknown="ignore", sparse=False), categorical)])


def cross_validated_scores(data: GermanCredit, folds: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """Out-of-fold probabilities of a bad outcome for each applicant, per model (stratified k-fold)."""
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    x = data.rows.copy()
    for i, name in enumerate(data.columns):
        if name in NUMERIC:
            x[:, i] = x[:, i].astype(float)
    models = {
        "logistic regression": make_pipeline(_encoder(data), LogisticRegression(C=0.3, max_iter=2000)),
        "gradient boosting": make_pipeline(_encoder(data), HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.05, max_leaf_nodes=8, random_state=seed)),
    }
    return {name: cross_val_predict(model, x, data.bad, cv=split, method="predict_proba")[:, 1]
            for name, model in models.items()}


def fairness_groups(data: GermanCredit) -> dict[str, np.ndarray]:
    """The protected attributes as readable groups: age band, sex, foreign worker."""
    age = data.protected["age_years"].astype(int)
    return {
        "age band": np.select([age < 26, age < 41, age < 61], ["19-25", "26-40", "41-60"], "61+").astype(object),
        "sex": np.where(np.isin(data.protected["personal_status_sex"], list(FEMALE_CODES)), "female", "male"),
        "foreign worker": np.where(data.protected["foreign_worker"] == "A201", "yes", "no"),
    }
