"""A linear intent classifier on its own TF-IDF features: word n-grams of the bilingual
tokenizer's tokens and character n-grams (char_wb) of the text.

Character n-grams carry most of the signal for Chinese (no reliance on jieba's
segmentation) and for typos; word n-grams carry English phrasing. The model is a
scikit-learn LogisticRegression (multinomial) or a LinearSVC calibrated by
cross-validation (CalibratedClassifierCV, sigmoid): either way `predict_proba` gives
probabilities over every intent that sum to 1, which the FallbackClassifier reads.

`combine_with_previous: true` turns it into an ensemble member: placed after another
intent classifier (DIET), it averages that classifier's `intent_ranking` with its own
probabilities (`previous_weight` for the other one) and emits the mean.

Persisted with Rasa's model storage through skops (as Rasa 3.6's own sklearn
classifiers do), loading only an explicit list of trusted types.

Inference: scikit-learn's `CalibratedClassifierCV.predict_proba` validates its input and runs
each of the folds' SVCs and each class's sigmoid separately, per message: 13% of the Rasa
process's CPU in the benchmark (docs/PERFORMANCE.md). `CalibratedLinearScores` computes the same
numbers from the same fitted parameters in one sparse product and one vectorised sigmoid; a test
compares it with scikit-learn's own on generated texts. Any other fitted model goes through
scikit-learn unchanged. Likewise `tfidf()`: scikit-learn 1.1's `TfidfTransformer.transform` checks
that it is fitted by computing its `idf_` property, a sum over the whole IDF matrix, on every call
(5% of the Rasa process's CPU); `tfidf()` runs the same steps without that check.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from scipy.sparse import csr_matrix, hstack

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_intent.skops"
# skops refuses to load any type outside its defaults unless trusted by name. These are the
# only extra types our objects hold (the IDF diagonal is a CSR matrix; the calibrated SVC
# keeps one sigmoid per class). Anything else in the file means it is not ours: refuse it.
TRUSTED_TYPES = {
    "scipy.sparse._csr.csr_matrix",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
}
LOGISTIC_REGRESSION = "logistic_regression"


def tfidf(vectorizer: Any, documents: List[Text]) -> csr_matrix:
    """`vectorizer.transform(documents)` for a fitted TfidfVectorizer, as scikit-learn 1.1 computes it
    (counts, sublinear tf, × IDF, norm), without its per-call fitted check; anything unexpected: its own."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    weights = getattr(vectorizer, "_tfidf", None)
    idf = getattr(weights, "_idf_diag", None)
    if idf is None or not getattr(vectorizer, "vocabulary_", None):
        return vectorizer.transform(documents)
    counts = CountVectorizer.transform(vectorizer, documents)
    if counts.dtype not in (np.float32, np.float64) or not isinstance(counts, csr_matrix):
        return vectorizer.transform(documents)
    if weights.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1
    if weights.use_idf:
        counts = counts * idf
    if weights.norm:
        counts = normalize(counts, norm=weights.norm, copy=False)
    return counts


class CalibratedLinearScores:
    """`CalibratedClassifierCV.predict_proba` of linear SVCs with sigmoid calibration, computed at once.

    Per fold (as scikit-learn 1.1 `_CalibratedClassifier.predict_proba`): decision = X·coefᵀ + intercept,
    p = expit(-(a·decision + b)) per class, placed at the class's column, each row divided by its sum
    (uniform where the sum is 0), values within 1e-5 above 1 set to 1; then the mean over the folds.
    """

    def __init__(self, clf: Any) -> None:
        from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
        from sklearn.svm import LinearSVC

        if not isinstance(clf, CalibratedClassifierCV) or len(clf.classes_) < 3:
            raise TypeError("not a multi-class calibrated classifier")
        self.classes = clf.classes_
        weights, intercepts, slopes, offsets, self.columns = [], [], [], [], []
        for fold in clf.calibrated_classifiers_:
            estimator = getattr(fold, "estimator", None) or fold.base_estimator
            if not isinstance(estimator, LinearSVC) or not all(
                    isinstance(c, _SigmoidCalibration) for c in fold.calibrators):
                raise TypeError("not a sigmoid-calibrated LinearSVC")
            weights.append(np.asarray(estimator.coef_, dtype=np.float64).T)
            intercepts.append(np.asarray(estimator.intercept_, dtype=np.float64))
            slopes.append([float(c.a_) for c in fold.calibrators])
            offsets.append([float(c.b_) for c in fold.calibrators])
            self.columns.append(np.searchsorted(self.classes, estimator.classes_))
        self.weights = np.hstack(weights)
        self.intercept = np.concatenate(intercepts)
        self.slope = np.concatenate(slopes)
        self.offset = np.concatenate(offsets)
        self.ends = np.cumsum([len(columns) for columns in self.columns])

    def predict_proba(self, features: csr_matrix) -> np.ndarray:
        from scipy.special import expit

        decisions = np.asarray(features @ self.weights) + self.intercept
        calibrated = expit(-(self.slope * decisions + self.offset))
        n_classes = len(self.classes)
        mean = np.zeros((features.shape[0], n_classes))
        start = 0
        for columns, end in zip(self.columns, self.ends):
            proba = np.zeros_like(mean)
            proba[:, columns] = calibrated[:, start:end]
            start = end
            total = proba.sum(axis=1)[:, np.newaxis]
            proba = np.divide(proba, total, out=np.full_like(proba, 1 / n_classes), where=total != 0)
            proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
            mean += proba
        return mean / len(self.columns)
LINEAR_SVC = "linear_svc"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Word + character n-gram TF-IDF into a linear model with calibrated probabilities."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "skops"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # LinearSVC + sigmoid calibration; or "logistic_regression" (multinomial).
            # Measured in docs/DECISIONS.md (issue 10).
            "model": LINEAR_SVC,
            "C": 1.0,
            "class_weight": "balanced",
            "word_ngram_range": [1, 2],
            "char_ngram_range": [1, 4],
            "min_df": 1,
            "sublinear_tf": True,
            "calibration_folds": 5,  # linear_svc only
            "max_iter": 2000,
            "random_state": 42,
            "ranking_length": 10,  # 0 = every intent
            "combine_with_previous": False,
            "previous_weight": 0.5,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Dict[Text, Any]] = None,
    ) -> None:
        self.component_config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        # {"words": TfidfVectorizer, "chars": TfidfVectorizer, "clf": estimator}
        self._model = model
        self._scores: Any = None   # what computes the probabilities (see CalibratedLinearScores)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        model = config.get("model", LINEAR_SVC)
        if model not in (LOGISTIC_REGRESSION, LINEAR_SVC):
            raise ValueError(f"LinearIntentClassifier: unknown model '{model}'")
        if not 0.0 <= float(config.get("previous_weight", 0.5)) <= 1.0:
            raise ValueError("LinearIntentClassifier: previous_weight must be within [0, 1]")

    # ---------------------------------------------------------------- features
    @staticmethod
    def _word_text(message: Message) -> Text:
        """The tokenizer's tokens joined by spaces (tokens never contain whitespace)."""
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        if tokens:
            return " ".join(token.text for token in tokens)
        return message.get(TEXT) or ""

    def _features(self, messages: List[Message]) -> csr_matrix:
        assert self._model is not None
        words = tfidf(self._model["words"], [self._word_text(m) for m in messages])
        chars = tfidf(self._model["chars"], [m.get(TEXT) or "" for m in messages])
        return hstack([words, chars], format="csr")

    def _new_vectorizers(self):
        from sklearn.feature_extraction.text import TfidfVectorizer

        c = self.component_config
        common = {"lowercase": True, "sublinear_tf": c["sublinear_tf"], "min_df": c["min_df"],
                  "dtype": np.float32}
        words = TfidfVectorizer(analyzer="word", token_pattern=r"(?u)\S+",
                                ngram_range=tuple(c["word_ngram_range"]), **common)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(c["char_ngram_range"]), **common)
        return words, chars

    def _new_classifier(self):
        c = self.component_config
        if c["model"] == LINEAR_SVC:
            from sklearn.calibration import CalibratedClassifierCV
            from sklearn.svm import LinearSVC

            svc = LinearSVC(C=c["C"], class_weight=c["class_weight"], max_iter=c["max_iter"],
                            random_state=c["random_state"])
            return CalibratedClassifierCV(svc, method="sigmoid", cv=c["calibration_folds"])
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=c["C"], class_weight=c["class_weight"], max_iter=c["max_iter"],
                                  solver="lbfgs", multi_class="multinomial",
                                  random_state=c["random_state"])

    # ---------------------------------------------------------------- training
    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        labels = np.array([e.get(INTENT) for e in examples])
        if len(set(labels)) < 2:
            logger.warning("LinearIntentClassifier needs at least two intents; not trained.")
            return self._resource
        words, chars = self._new_vectorizers()
        words.fit([self._word_text(e) for e in examples])
        chars.fit([e.get(TEXT) for e in examples])
        self._model = {"words": words, "chars": chars, "clf": self._new_classifier()}
        self._scores = None
        self._model["clf"].fit(self._features(examples), labels)
        self.persist()
        return self._resource

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump(self._model, model_dir / MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as model_dir:
                path = model_dir / MODEL_FILE
                untrusted = set(sio.get_untrusted_types(file=path))
                if untrusted - TRUSTED_TYPES:
                    # Not a file this component wrote (or scikit-learn renamed a type): refuse it
                    # loudly rather than run a model that would send every message to the fallback.
                    raise RuntimeError(f"LinearIntentClassifier: untrusted types in {path}: "
                                       f"{sorted(untrusted - TRUSTED_TYPES)}; retrain the model")
                model = sio.load(path, trusted=sorted(untrusted))
        except ValueError:  # no such resource: the component was never trained (as Rasa's own)
            logger.warning("LinearIntentClassifier: no trained model; every message will fall back.")
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, model)

    # ---------------------------------------------------------------- inference
    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:  # untrained: no intent, confidence 0 (the fallback takes it)
            for message in messages:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
            return messages
        if not messages:
            return messages
        probabilities = self._scorer().predict_proba(self._features(messages))
        classes = [str(c) for c in self._model["clf"].classes_]
        weight = float(self.component_config["previous_weight"])
        length = int(self.component_config["ranking_length"])
        for message, row in zip(messages, probabilities):
            scores = dict(zip(classes, (float(p) for p in row)))
            previous = message.get(INTENT_RANKING_KEY) or []
            if self.component_config["combine_with_previous"] and previous:
                # Intents absent from the other classifier's (possibly truncated) ranking count as 0.
                other = {r["name"]: float(r["confidence"]) for r in previous}
                scores = {name: weight * other.get(name, 0.0) + (1 - weight) * p for name, p in scores.items()}
                total = sum(scores.values()) or 1.0
                scores = {name: p / total for name, p in scores.items()}
            ranking = sorted(({"name": n, "confidence": p} for n, p in scores.items()),
                             key=lambda r: -r["confidence"])
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, add_to_output=True)
        return messages

    def _scorer(self) -> Any:
        if self._scores is None:
            try:
                self._scores = CalibratedLinearScores(self._model["clf"])
            except TypeError:
                self._scores = self._model["clf"]       # scikit-learn's own predict_proba
        return self._scores

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
