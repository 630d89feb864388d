"""The early-warning model: a standardised logistic regression with reason codes, its challenger and baseline,
the metrics that compare them, and the versioned file it is kept in.

- `train_logistic`: the production model. Explainable: each score's reasons are the features whose
  coefficient x (value - training mean) / scale pushed the score up most.
- `train_challenger`: gradient boosting (HistGradientBoostingClassifier), compared, not deployed.
- `BucketBaseline`: the observed roll rate of the loan's days-past-due bucket (days past due alone).
- `evaluate`, `psi`: AUC, KS, Brier, calibration by decile; population stability between two score sets.

Nothing trains at import; `bot.risk.scoring` trains on the synthetic portfolio only when no model is stored.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from bot.risk.features import BINARY_FEATURES, FEATURES, LABELS

PSI_WARNING = 0.25
BANDS = ((0.30, "high"), (0.10, "medium"), (0.0, "low"))  # lower bound of each band, highest first
DPD_EDGES = (1, 30, 60, 90)  # bucket boundaries of the baseline: current, 1-29, 30-59, 60-89, 90+
_CODE = [Path(__file__).with_name(name) for name in ("features.py", "model.py", "synthetic.py")]


def band(probability: float) -> str:
    return next(name for floor, name in BANDS if probability >= floor)


def train_logistic(x: np.ndarray, y: np.ndarray) -> Pipeline:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    return model.fit(x, y)


def train_challenger(x: np.ndarray, y: np.ndarray, seed: int = 0) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15,
                                          random_state=seed).fit(x, y)


@dataclass
class BucketBaseline:
    """Days past due alone: the training roll rate of each days-past-due bucket."""

    rates: list[float] = field(default_factory=list)

    @staticmethod
    def buckets(dpd: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.array(DPD_EDGES), dpd, side="right")

    def fit(self, dpd: np.ndarray, y: np.ndarray) -> BucketBaseline:
        index = self.buckets(dpd)
        overall = float(y.mean())
        self.rates = [float(y[index == b].mean()) if (index == b).any() else overall for b in range(5)]
        return self

    def predict_proba(self, dpd: np.ndarray) -> np.ndarray:
        return np.array(self.rates)[self.buckets(dpd)]


@dataclass(frozen=True)
class Metrics:
    auc: float
    ks: float
    brier: float
    calibration: list[tuple[float, float, int]]  # per score decile: mean predicted, observed rate, loans


def evaluate(y: np.ndarray, p: np.ndarray) -> Metrics:
    fpr, tpr, _ = roc_curve(y, p)
    order = np.argsort(p, kind="stable")
    deciles = [(float(p[part].mean()), float(y[part].mean()), len(part)) for part in np.array_split(order, 10)]
    return Metrics(auc=float(roc_auc_score(y, p)), ks=float(np.max(tpr - fpr)),
                   brier=float(brier_score_loss(y, p)), calibration=deciles)


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Population stability index of `actual` scores against `expected` (training) scores, over the
    expected scores' decile bins; 0 when the populations match, above 0.25 a material shift."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)[1:-1]))
    e = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=len(edges) + 1) / len(expected)
    a = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=len(edges) + 1) / len(actual)
    e, a = np.clip(e, 1e-4, None), np.clip(a, 1e-4, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_warning(value: float) -> str | None:
    if value > PSI_WARNING:
        return (f"WARNING: population stability index {value:.3f} > {PSI_WARNING}: the scored loans differ "
                "materially from the training population; retrain or review before relying on the scores")
    return None


def contributions(model: Pipeline, x: np.ndarray) -> np.ndarray:
    """Each feature's share of each score's log-odds: coefficient x (value - mean) / scale."""
    scaler, regression = model.steps[0][1], model.steps[-1][1]
    return scaler.transform(x) * regression.coef_[0]


def _reason_candidates(model: Pipeline, x: np.ndarray) -> np.ndarray:
    """Contributions that may be given as reasons: a yes/no feature only when it is present (a loan is not
    told "not 90+ days past due" as a reason for its risk), a numeric one either way."""
    binary = np.array([name in BINARY_FEATURES for name in FEATURES])
    return np.where(binary & (x <= 0), 0.0, contributions(model, x))


def _words(feature: str, value: float, mean: float) -> tuple[str, str]:
    """A reason in words (en, zh): the feature and which way it points, e.g. "... - higher than usual"."""
    en, zh = LABELS[feature]
    if feature in BINARY_FEATURES:
        return (f"{en} - yes", f"{zh}：是") if value > 0 else (f"{en} - no", f"{zh}：否")
    return (f"{en} - higher than usual", f"{zh}：高于一般") if value > mean else (
        f"{en} - lower than usual", f"{zh}：低于一般")


def reason_codes(model: Pipeline, x: np.ndarray, top: int = 3) -> list[list[dict]]:
    """For each row, up to `top` features that raised its score most (positive contributions only; yes/no
    features only when present), largest first, each with its words in English and Chinese."""
    parts, means = _reason_candidates(model, x), model.steps[0][1].mean_
    order = np.argsort(-parts, axis=1)[:, :top]
    reasons = []
    for row, columns in enumerate(order):
        reasons.append([dict(zip(("feature", "contribution", "value", "en", "zh"), (
            FEATURES[c], round(float(parts[row, c]), 3), round(float(x[row, c]), 3),
            *_words(FEATURES[c], x[row, c], means[c])))) for c in columns if parts[row, c] > 0])
    return reasons


def reason_codes_json(model: Pipeline, x: np.ndarray, top: int = 3) -> list[str]:
    """`reason_codes` as the JSON text stored with each score, built without a dict per reason (fast path
    for scoring a whole book; the same content as `json.dumps(reason_codes(...), ensure_ascii=False)`)."""
    parts, means = _reason_candidates(model, x), model.steps[0][1].mean_
    order = np.argsort(-parts, axis=1)[:, :top]
    heads = [json.dumps({"feature": name}, ensure_ascii=False)[:-1] for name in FEATURES]
    # Per feature, the words when its value is above the training mean (True) or not (False).
    tails = [{above: json.dumps(dict(zip(("en", "zh"), _words(name, 1.0 if above else -1.0, 0.0))),
                                ensure_ascii=False)[1:] for above in (False, True)} for name in FEATURES]
    above_mean = np.where([name in BINARY_FEATURES for name in FEATURES], x > 0, x > means)
    texts = []
    for row, columns in zip(range(len(order)), order.tolist()):
        texts.append("[" + ", ".join(
            f'{heads[c]}, "contribution": {round(float(parts[row, c]), 3)}, "value": {round(float(x[row, c]), 3)}, '
            f'{tails[c][bool(above_mean[row, c])]}'
            for c in columns if parts[row, c] > 0) + "]")
    return texts


def version_of(x: np.ndarray, y: np.ndarray) -> str:
    """A version string: the hash of the training data and of the code that made the features and model."""
    digest = hashlib.sha256(np.ascontiguousarray(x, dtype=float).tobytes())
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    for path in _CODE:
        digest.update(path.read_bytes())
    return f"lr-{digest.hexdigest()[:16]}"


@dataclass
class StoredModel:
    """What is kept on disk: the fitted model, its version, what it was trained on, its training scores."""

    version: str
    model: Pipeline
    features: tuple[str, ...]
    trained_on: str
    training_scores: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(x)[:, 1]


def model_dir(var_dir: Path) -> Path:
    return var_dir / "risk"


def save(stored: StoredModel, var_dir: Path) -> Path:
    directory = model_dir(var_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{stored.version}.joblib"
    joblib.dump(stored, path)
    (directory / "current.json").write_text(json.dumps({"version": stored.version, "file": path.name}))
    return path


def load(var_dir: Path) -> StoredModel | None:
    """The current model, or None when none was trained (or it was trained on another feature list)."""
    pointer = model_dir(var_dir) / "current.json"
    if not pointer.exists():
        return None
    stored = joblib.load(model_dir(var_dir) / json.loads(pointer.read_text())["file"])
    return stored if tuple(stored.features) == FEATURES else None
