"""Overrides the intent with `self_harm` whenever a message mentions self-harm or suicide.

Sits last in the NLU pipeline, after the FallbackClassifier, so such a message always
reaches the urgent handoff, whatever the statistical model thought. (Before the fallback,
a matched message still became `nlu_fallback` when the classifier's next intent was within
the fallback's ambiguity threshold of the rule's 1.0: measured on 2 of 40 blind test sentences.)
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.safety import mentions_self_harm

SELF_HARM = "self_harm"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SelfHarmSafetyNet(GraphComponent):
    """Deterministic `self_harm` intent for messages that mention it (bot.language.safety)."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SelfHarmSafetyNet":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not mentions_self_harm(message.get(TEXT) or ""):
                continue
            message.set(INTENT, {"name": SELF_HARM, "confidence": 1.0}, add_to_output=True)
            # The classifier's ranking stays for the record, below the rule's verdict.
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != SELF_HARM]
            message.set(INTENT_RANKING_KEY, [{"name": SELF_HARM, "confidence": 1.0}] + ranking, add_to_output=True)
        return messages
