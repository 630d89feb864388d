"""The NLU test sets stay test sets: separate from the training data, every intent covered."""
from __future__ import annotations

from collections import Counter, defaultdict

import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.nlu_text import NEAR_DISTANCE, examples, near_duplicates, normalised, within_edit_distance

NLU = PROJECT_ROOT / "tests" / "nlu"
TEST_SETS = ["heldout_en.yml", "heldout_zh.yml", "heldout2_en.yml", "heldout2_zh.yml"]
CROSS_AUTHOR = sorted(str(path.relative_to(NLU)) for path in (NLU / "cross_author").glob("*.yml"))


@pytest.fixture(scope="module")
def training() -> set[str]:
    files = sorted((PROJECT_ROOT / "data" / "nlu").rglob("*.yml"))
    assert len(files) >= 13
    return {normalised(text) for path in files for text, _ in examples(path)}


@pytest.fixture(scope="module")
def intents() -> set[str]:
    return set(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])


@pytest.fixture(scope="module")
def training_by_length(training) -> dict[int, list[str]]:
    by_length: dict[int, list[str]] = defaultdict(list)
    for text in training:
        by_length[len(text)].append(text)
    return by_length


@pytest.mark.parametrize("name", TEST_SETS + CROSS_AUTHOR + ["dev_en.yml", "dev_zh.yml"])
def test_no_test_sentence_is_in_the_training_data(name, training, training_by_length):
    texts = [normalised(text) for text, _ in examples(NLU / name)]
    overlap = [text for text in texts if text in training]
    assert overlap == [], f"{len(overlap)} sentences of {name} are also training data"
    near = near_duplicates(texts, training_by_length)
    assert near == [], f"{len(near)} sentences of {name} are within {NEAR_DISTANCE} edits of training data"


def test_the_near_duplicate_check_can_fail():
    training = {"icanpay500nextfridayforsure": None}
    by_length = defaultdict(list)
    for text in training:
        by_length[len(text)].append(text)
    assert near_duplicates(["icanpay600nextfridayforsure"], by_length) == ["icanpay600nextfridayforsure"]
    assert near_duplicates(["wewillpay500nextfridayforsure"], by_length) == []
    assert within_edit_distance("abcdefghijklmnopqrstuv", "abcdefghijklmnopqrstuv", 2)
    assert not within_edit_distance("abcdefghijklmnopqrstuv", "abcdefghijklmnopqrxxxx", 2)


def test_cross_author_sets_have_four_writers_and_25_examples_per_intent_per_language(intents):
    writers = {name.split("/")[-1].split("_")[0] for name in CROSS_AUTHOR}
    assert len(writers) >= 4, CROSS_AUTHOR
    for language in ("en", "zh"):
        counts = Counter(intent for name in CROSS_AUTHOR if name.endswith(f"_{language}.yml")
                         for _, intent in examples(NLU / name))
        tested = {intent for intent in intents if not intent.startswith(("EXTERNAL_", "nlu_"))}
        assert {intent: counts[intent] for intent in tested if counts[intent] < 25} == {}, language


@pytest.mark.parametrize("name", TEST_SETS)
def test_every_intent_has_at_least_20_examples(name, intents):
    counts = Counter(intent for _, intent in examples(NLU / name))
    tested = {intent for intent in intents if intent in counts or not intent.startswith(("EXTERNAL_", "nlu_"))}
    assert {intent: counts[intent] for intent in tested if counts[intent] < 20} == {}
