"""The NLU test sets stay test sets: separate from the training data, every intent covered."""
from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from tests.conftest import PROJECT_ROOT

NLU = PROJECT_ROOT / "tests" / "nlu"
TEST_SETS = ["heldout_en.yml", "heldout_zh.yml", "heldout2_en.yml", "heldout2_zh.yml"]
NOT_A_WORD = re.compile(r"[^\w]|_", re.UNICODE)


def normalised(text: str) -> str:
    return NOT_A_WORD.sub("", text.lower())


def examples(path) -> list[tuple[str, str]]:
    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


@pytest.fixture(scope="module")
def training() -> set[str]:
    files = sorted((PROJECT_ROOT / "data" / "nlu").rglob("*.yml"))
    assert len(files) >= 13
    return {normalised(text) for path in files for text, _ in examples(path)}


@pytest.fixture(scope="module")
def intents() -> set[str]:
    return set(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])


@pytest.mark.parametrize("name", TEST_SETS + ["dev_en.yml", "dev_zh.yml"])
def test_no_test_sentence_is_in_the_training_data(name, training):
    overlap = [text for text, _ in examples(NLU / name) if normalised(text) in training]
    assert overlap == [], f"{len(overlap)} sentences of {name} are also training data"


@pytest.mark.parametrize("name", TEST_SETS)
def test_every_intent_has_at_least_20_examples(name, intents):
    counts = Counter(intent for _, intent in examples(NLU / name))
    tested = {intent for intent in intents if intent in counts or not intent.startswith(("EXTERNAL_", "nlu_"))}
    assert {intent: counts[intent] for intent in tested if counts[intent] < 20} == {}
