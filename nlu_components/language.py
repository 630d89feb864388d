"""Marks every parsed message with its language, as a `language` entity.

The `language` slot maps from this entity, so every response (including plain
`utter_` responses) follows the language of the borrower's latest message.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language import detect_language
from bot.language.references import prepare_without_refs

# Digits, emoji and punctuation say nothing about the language: keep the last one.
HAS_WORDS = re.compile(r"[A-Za-z\u3400-\u4dbf\u4e00-\u9fff]")
# A loan reference ("HCF-2002") is Latin in every language: it must not flip a Chinese chat to English.
# References of the configured format are masked first (prepare_without_refs); this generic
# letters-and-digits token rule stays as a second net for reference-like tokens of other shapes.
LOAN_REFERENCE = re.compile(r"(?i)\b[a-z]{2,4}[\s_-]*\d{3,8}\b")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds {"entity": "language", "value": "en"|"zh"} to each message that has text."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            words = LOAN_REFERENCE.sub(" ", prepare_without_refs(text))
            if not HAS_WORDS.search(words):
                continue
            language = detect_language(words)
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != "language"]
            entities.append({
                "entity": "language", "value": language, "start": 0, "end": len(text),
                "confidence": 1.0, "extractor": self.__class__.__name__,
            })
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
