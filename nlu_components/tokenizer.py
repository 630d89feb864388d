"""One tokenizer for English, Chinese and the two mixed in one message.

Han runs are segmented by spaCy's blank `zh` pipeline with its jieba
segmenter; everything else by spaCy's blank `en` tokenizer. Whitespace never
becomes a token (Rasa's JiebaTokenizer keeps it, which hurts mixed text).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

logging.getLogger("jieba").setLevel(logging.WARNING)

HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class BilingualTokenizer(Tokenizer):
    """Tokenizes English and Simplified Chinese text with spaCy (jieba for Han runs)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return None

    @staticmethod
    def required_packages() -> List[Text]:
        return ["spacy", "jieba"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self._en = spacy.blank("en").tokenizer
        self._zh = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}}).tokenizer

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "BilingualTokenizer":
        return cls(config)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        tokens: List[Token] = []
        position = 0
        for match in HAN_RUN.finditer(text):
            tokens.extend(self._spacy_tokens(self._en, text[position:match.start()], position))
            tokens.extend(self._spacy_tokens(self._zh, match.group(), match.start()))
            position = match.end()
        tokens.extend(self._spacy_tokens(self._en, text[position:], position))
        return self._apply_token_pattern(tokens)

    @staticmethod
    def _spacy_tokens(tokenizer, chunk: str, offset: int) -> List[Token]:
        if not chunk.strip():
            return []
        return [
            Token(token.text, offset + token.idx)
            for token in tokenizer(chunk)
            if not token.is_space and token.text.strip()
        ]
