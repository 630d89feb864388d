"""The rule policy predicts with the bounded, incrementally computed states exactly what Rasa's predicts.

Our trained RulePolicy (models/assistant.tar.gz) drives generated conversations far longer than its
longest rule: random intents (and text) from our domain, random slot values from our slots' own
values, sometimes a new session; the action taken is the one Rasa's own computation predicts. At
every prediction, the prediction with rasa_runtime's states must equal Rasa's (probabilities,
events, hide_rule_turn, end-to-end and no-user flags), and the memoised states must equal Rasa's
`states_for_tracker_history` in full.
"""
from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.slots import BooleanSlot, CategoricalSlot
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_runtime import rule_lookback
from tests.conftest import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "assistant.tar.gz"
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs the trained model (bash scripts/bootstrap.sh)")


@pytest.fixture(scope="module")
def trained():
    storage_dir = tempfile.mkdtemp(prefix="rule-lookback-")
    storage, metadata = LocalModelStorage.from_model_archive(Path(storage_dir), MODEL)
    node = next(n for n in metadata.predict_schema.nodes.values() if n.uses is RulePolicy)
    config = {**RulePolicy.get_default_config(), **node.config}
    policy = RulePolicy.load(config, storage, node.resource, ExecutionContext(metadata.predict_schema))
    return policy, metadata.domain


def rasas_prediction(policy, tracker, domain):
    patched = RulePolicy._prediction_states
    RulePolicy._prediction_states = rule_lookback._RASA_PREDICTION_STATES
    try:
        return policy.predict_action_probabilities(tracker, domain)
    finally:
        RulePolicy._prediction_states = patched


def our_prediction(policy, tracker, domain):
    patched = RulePolicy._prediction_states
    RulePolicy._prediction_states = rule_lookback.prediction_states
    try:
        return policy.predict_action_probabilities(tracker, domain)
    finally:
        RulePolicy._prediction_states = patched


def summary(prediction) -> tuple:
    return (prediction.probabilities, [e.as_dict() for e in prediction.events], prediction.hide_rule_turn,
            prediction.is_end_to_end_prediction, prediction.is_no_user_prediction)


def slot_value(slot, rng: random.Random):
    if isinstance(slot, BooleanSlot):
        return rng.choice([True, False, None])
    if isinstance(slot, CategoricalSlot):
        return rng.choice([*slot.values, None])
    return rng.choice([None, "x", 1])


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_predictions_over_long_conversations_are_rasas(trained, seed):
    policy, domain = trained
    rng = random.Random(seed)
    intents = [i for i in domain.intents if not i.startswith("EXTERNAL")] + ["EXTERNAL_outreach"]
    slots = [s for s in domain.slots if s.influence_conversation]
    assert rule_lookback.lookback(policy) < 40   # the conversations below reach far past it
    tracker = DialogueStateTracker("rest:lookback", domain.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    predictions = 0
    for _ in range(rng.randint(20, 45)):
        if rng.random() < 0.03:
            for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
                tracker.update(event)
        intent = rng.choice(intents)
        tracker.update(UserUttered(f"/{intent}", {"name": intent, "confidence": 1.0}))
        for _step in range(4):
            rasas = rasas_prediction(policy, tracker, domain)
            assert summary(our_prediction(policy, tracker, domain)) == summary(rasas)
            memo = rule_lookback.recent_states(tracker, domain, 10**9)
            assert memo == domain.states_for_tracker_history(tracker)
            predictions += 1
            action = domain.action_names_or_texts[rasas.max_confidence_index]
            tracker.update(ActionExecuted(action, policy="RulePolicy", confidence=1.0))
            if action == "action_listen":
                break
            if slots and rng.random() < 0.5:
                slot = rng.choice(slots)
                tracker.update(SlotSet(slot.name, slot_value(slot, rng)))
        else:
            tracker.update(ActionExecuted("action_listen"))
    assert predictions > 20


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_no_rule_sees_further_back_than_the_lookback(trained, seed):
    """The lemma behind the bound, on our own rules: the rules applicable to a conversation's states are those
    applicable to its last `lookback` states. Conversations are made of our rules' own states, in any order,
    so that rules match, partly match and fail at every position."""
    policy, _ = trained
    rng = random.Random(seed)
    pool = [state for key in sorted(policy.lookup["rules"]) for state in policy._rule_key_to_state(key)]
    count = rule_lookback.lookback(policy)
    states = [rng.choice(pool) for _ in range(rng.randint(1, 12))]
    for end in range(1, len(states) + 1):
        history = states[:end]
        assert (policy._get_possible_keys(policy.lookup["rules"], history)
                == policy._get_possible_keys(policy.lookup["rules"], history[-count:]))
