"""The self-harm safety net has the last word in the NLU pipeline."""
from __future__ import annotations

import yaml
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu_components.safety import SelfHarmSafetyNet
from tests.conftest import PROJECT_ROOT


def test_the_safety_net_is_the_last_nlu_component():
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    assert config["pipeline"][-1]["name"] == "nlu_components.safety.SelfHarmSafetyNet"


def test_a_close_second_intent_cannot_turn_a_self_harm_message_into_a_fallback():
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    fallback_config = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    fallback = FallbackClassifier({**FallbackClassifier.get_default_config(), **fallback_config})
    message = Message(data={TEXT: "最近老是有轻生的想法"})
    # The classifier is torn between two intents: the fallback's ambiguity check fires.
    message.set(INTENT, {"name": "vulnerable", "confidence": 0.51}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [{"name": "vulnerable", "confidence": 0.51},
                                     {"name": "explain_hardship", "confidence": 0.49}], add_to_output=True)
    [after_fallback] = fallback.process([message])
    assert after_fallback.get(INTENT)["name"] == "nlu_fallback"
    [final] = SelfHarmSafetyNet().process([after_fallback])
    assert final.get(INTENT) == {"name": "self_harm", "confidence": 1.0}
    assert final.get(INTENT_RANKING_KEY)[0] == {"name": "self_harm", "confidence": 1.0}
