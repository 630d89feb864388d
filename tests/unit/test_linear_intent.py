"""The linear intent classifier trains, persists through Rasa's model storage, loads and predicts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.linear_intent import CalibratedLinearScores, LinearIntentClassifier, tfidf
from nlu_components.tokenizer import BilingualTokenizer

EXAMPLES = {
    "greet": ["hello", "hi there", "good morning", "hey", "你好", "您好", "在吗", "早上好"],
    "request_human": ["i want a human", "agent please", "let me talk to a person", "real person pls",
                      "转人工", "我要找人工客服", "人工", "让真人来跟我说"],
    "ask_arrears": ["how much do i owe", "what is my balance", "how much is overdue", "my arrears?",
                    "我欠多少钱", "还欠多少", "逾期多少", "现在欠款是多少"],
}


@pytest.fixture(scope="module")
def tokenizer() -> BilingualTokenizer:
    return BilingualTokenizer(BilingualTokenizer.get_default_config())


def _messages(tokenizer: BilingualTokenizer, texts: list[str]) -> list[Message]:
    messages = [Message(data={TEXT: text}) for text in texts]
    tokenizer.process(messages)
    return messages


def _training_data(tokenizer: BilingualTokenizer) -> TrainingData:
    data = TrainingData([Message(data={TEXT: text, INTENT: intent})
                         for intent, texts in EXAMPLES.items() for text in texts])
    tokenizer.process_training_data(data)
    return data


def _train_and_load(tmp_path: Path, tokenizer: BilingualTokenizer, config: dict) -> LinearIntentClassifier:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear_intent")
    context = ExecutionContext(GraphSchema({}), node_name="linear_intent")
    full_config = {**LinearIntentClassifier.get_default_config(), **config}
    trained = LinearIntentClassifier.create(full_config, storage, resource, context)
    trained.train(_training_data(tokenizer))
    # A fresh instance, from the persisted resource only.
    return LinearIntentClassifier.load(full_config, storage, resource, context)


@pytest.mark.parametrize("config", [
    {"model": "logistic_regression", "C": 10.0},
    {"model": "linear_svc", "C": 1.0, "calibration_folds": 3},
])
def test_trains_persists_loads_and_predicts_both_languages(tmp_path: Path, tokenizer, config):
    classifier = _train_and_load(tmp_path, tokenizer, config)
    messages = classifier.process(_messages(tokenizer, ["hello", "转人工", "how much do i owe"]))
    assert [m.get(INTENT)["name"] for m in messages] == ["greet", "request_human", "ask_arrears"]
    for message in messages:
        ranking = message.get(INTENT_RANKING_KEY)
        assert {r["name"] for r in ranking} == set(EXAMPLES)
        assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-6)
        assert ranking == sorted(ranking, key=lambda r: -r["confidence"])
        assert message.get(INTENT) == ranking[0]
        assert all(isinstance(r["confidence"], float) for r in ranking)  # JSON-serialisable


def test_ensemble_mode_averages_the_previous_classifiers_ranking(tmp_path: Path, tokenizer):
    classifier = _train_and_load(tmp_path, tokenizer, {"combine_with_previous": True, "previous_weight": 0.5})
    [alone] = classifier.process(_messages(tokenizer, ["hello"]))
    own = {r["name"]: r["confidence"] for r in alone.get(INTENT_RANKING_KEY)}
    [message] = _messages(tokenizer, ["hello"])
    # Another classifier (DIET) said ask_arrears for sure.
    message.set(INTENT_RANKING_KEY, [{"name": "ask_arrears", "confidence": 1.0}])
    [combined] = classifier.process([message])
    scores = {r["name"]: r["confidence"] for r in combined.get(INTENT_RANKING_KEY)}
    assert scores["ask_arrears"] == pytest.approx(0.5 + 0.5 * own["ask_arrears"])
    assert scores["greet"] == pytest.approx(0.5 * own["greet"])
    assert sum(scores.values()) == pytest.approx(1.0)


def test_an_untrained_component_predicts_nothing_with_confidence_zero(tmp_path: Path, tokenizer):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="linear_intent")
    classifier = LinearIntentClassifier.load({}, storage, Resource("missing"), context)
    [message] = classifier.process(_messages(tokenizer, ["hello"]))
    assert message.get(INTENT) == {"name": None, "confidence": 0.0}  # below any fallback threshold
    assert message.get(INTENT_RANKING_KEY) == []


def test_a_model_file_with_untrusted_types_is_refused(tmp_path: Path, tokenizer, monkeypatch):
    import skops.io as sio

    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear_intent")
    context = ExecutionContext(GraphSchema({}), node_name="linear_intent")
    config = LinearIntentClassifier.get_default_config()
    LinearIntentClassifier.create(config, storage, resource, context).train(_training_data(tokenizer))
    monkeypatch.setattr(sio, "get_untrusted_types", lambda file: ["builtins.eval"])
    with pytest.raises(RuntimeError, match="untrusted"):
        LinearIntentClassifier.load(config, storage, resource, context)


def test_unknown_model_is_refused():
    with pytest.raises(ValueError):
        LinearIntentClassifier.validate_config({"model": "random_forest"})


@pytest.fixture(scope="module")
def project_classifier(tmp_path_factory) -> LinearIntentClassifier:
    """The classifier of the trained model the assistant runs (models/assistant.tar.gz), loaded as Rasa loads it."""
    from tests.e2e.stack import MODEL
    from tests.integration.require import require

    require(MODEL.exists(), "no trained model (make setup)")
    storage, metadata = LocalModelStorage.from_model_archive(tmp_path_factory.mktemp("model"), MODEL)
    node = next(node for node in metadata.predict_schema.nodes.values() if node.uses is LinearIntentClassifier)
    context = ExecutionContext(metadata.predict_schema, node_name="linear_intent")
    return LinearIntentClassifier.load({**LinearIntentClassifier.get_default_config(), **node.config},
                                       storage, node.resource, context)


PHRASES = ["hi", "HCF-1001 1988-04-12", "I had big medical bills", "I earn 9000 a month", "option 1",
           "I agree", "转人工", "我下个月能还500", "😀😀", "/intent{\"a\":1}", "<script>alert(1)</script>",
           "' OR 1=1; --", "how much do I owe 我欠多少", ""]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.one_of(st.sampled_from(PHRASES), st.text(max_size=80)), min_size=1, max_size=6))
def test_the_calibrated_scores_are_scikit_learns_own(project_classifier, tokenizer, texts):
    """CalibratedLinearScores gives scikit-learn's predict_proba of the same fitted model, message by message."""
    clf = project_classifier._model["clf"]
    assert project_classifier._scorer().__class__ is CalibratedLinearScores   # the fast path is the one in use
    features = project_classifier._features(_messages(tokenizer, texts))
    ours, theirs = CalibratedLinearScores(clf).predict_proba(features), clf.predict_proba(features)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert list(ours.argmax(axis=1)) == list(theirs.argmax(axis=1))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.one_of(st.sampled_from(PHRASES), st.text(max_size=80)), min_size=1, max_size=6))
def test_the_tfidf_features_are_scikit_learns_own(project_classifier, tokenizer, texts):
    messages = _messages(tokenizer, texts)
    for name, documents in (("words", [LinearIntentClassifier._word_text(m) for m in messages]),
                            ("chars", [m.get(TEXT) or "" for m in messages])):
        vectorizer = project_classifier._model[name]
        ours, theirs = tfidf(vectorizer, documents), vectorizer.transform(documents)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        assert (ours != theirs).nnz == 0    # the same numbers, bit for bit


def test_a_logistic_regression_keeps_scikit_learns_predict_proba(tmp_path: Path, tokenizer):
    classifier = _train_and_load(tmp_path, tokenizer, {"model": "logistic_regression", "C": 10.0})
    assert classifier._scorer() is classifier._model["clf"]
