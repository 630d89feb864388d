"""The NLU's language tag ignores loan references of the configured format: a bare reference
keeps the conversation's language (no `language` entity), words still set it."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu_components.language import LanguageDetector


def language_entity(text: str) -> str | None:
    [message] = LanguageDetector().process([Message(data={TEXT: text})])
    found = [e["value"] for e in message.get(ENTITIES, []) if e["entity"] == "language"]
    return found[0] if found else None


@pytest.mark.parametrize("text", ["HCF-2002", "hcf 2002", "HCF–2002 1992-11-03", "ＨＣＦ－２００２"])
def test_a_bare_default_reference_sets_no_language(text):
    assert language_entity(text) is None


@pytest.mark.parametrize("text", ["LN/123456", "ln/123456 1992-11-03", "LN.123456", "ＬＮ／１２３４５６"])
def test_a_bare_reference_of_another_configured_format_sets_no_language(reference_format, text):
    reference_format("LN/######")
    assert language_entity(text) is None


def test_words_around_a_configured_reference_still_set_the_language(reference_format):
    reference_format("LN/######")
    assert language_entity("我的LN/123456还欠多少") == "zh"
    assert language_entity("my loan is LN/123456") == "en"
