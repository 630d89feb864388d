"""The conversation tests cannot flatter: the story tests (tests/stories) and the borrower
simulator (evaluation/personas.py) write to the bot in wording that is not training data.

A borrower utterance fails when, normalised like the NLU test sets (case, punctuation,
spaces, full/half width folded away), it equals a training example of data/nlu, or, when
longer than 20 characters, is within 2 edits of one (tests/nlu_text.py).

Story utterances are read the way Rasa reads test stories: the `user:` text stripped, its
entity annotations (`[HCF-1001](loan_ref)`) replaced by their text. Simulator utterances are
every phrasing of every act of every persona (retries and language defaults included),
filled in with every date-of-birth format and amount style the simulator can draw.

Exempt, and only these: utterances that are nothing but values, i.e. made only of loan
references (HCF-1001), dates of birth, numbers (digits or Chinese numerals such as 九千) and
punctuation. They carry no wording to learn, a borrower answering "what is your income?" or
"which option?" with a bare figure writes exactly what a training example with that figure
holds, and the values themselves are what the entity extractors and parsers are tested on
elsewhere (tests/unit/test_language_*.py). Anything with a word next to the value
("option 2", "it's HCF-1001", "born 12 April 1988") is wording and is checked.
"""
from __future__ import annotations

import re

import pytest
import yaml
from rasa.shared.nlu.training_data import entities_parser

from evaluation.personas import PERSONAS
from evaluation.simulator import possible_utterances
from tests.conftest import PROJECT_ROOT
from tests.nlu_text import NEAR_DISTANCE, by_length, near_duplicates, normalised, training_texts

STORIES = sorted((PROJECT_ROOT / "tests" / "stories").glob("*.yml"))
MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december")
VALUES = re.compile(
    r"HCF-\d+"  # loan reference
    rf"|\d{{1,2}} (?:{MONTHS}) \d{{4}}|(?:{MONTHS}) \d{{1,2}}, \d{{4}}"  # 12 April 1988, April 12, 1988
    r"|\d{4}年\d{1,2}月\d{1,2}[日号]"  # 1992年11月3日
    r"|\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}/\d{1,2}/\d{4}"  # 1988-04-12, 1992.11.3, 12/04/1988
    r"|\d[\d,.]*"  # 9000, 9,000, 1,250.00
    r"|[零一二两三四五六七八九十百千万]+(?=$|[\s,，、。])",  # 九千 (a numeral standing alone)
    re.IGNORECASE)


def only_values(text: str) -> bool:
    """Nothing but loan references, dates, numbers and punctuation."""
    return normalised(VALUES.sub(" ", text.strip())) == ""


def story_utterances() -> list[tuple[str, str]]:
    """(file, text) of every user message in the test stories, as Rasa reads it."""
    found = []
    for path in STORIES:
        for story in yaml.safe_load(path.read_text(encoding="utf-8")).get("stories") or []:
            for step in story.get("steps") or []:
                if "user" in step:
                    found.append((path.name, entities_parser.replace_entities(str(step["user"]).strip())))
    return found


def simulator_utterances() -> list[tuple[str, str]]:
    """(persona, text) of every message the simulator can send."""
    return [(persona.key, text) for persona in PERSONAS for text in sorted(possible_utterances(persona))]


@pytest.fixture(scope="module")
def training() -> set[str]:
    return training_texts(PROJECT_ROOT)


def overlapping(utterances: list[tuple[str, str]], training: set[str]) -> list[str]:
    """The utterances (not only values) equal to or near a training text, each once with where it is used."""
    checked = [(where, text, normalised(text)) for where, text in utterances if not only_values(text)]
    near = set(near_duplicates(sorted({n for _, _, n in checked if n not in training}), by_length(training)))
    found: dict[str, set[str]] = {}
    for where, text, n in checked:
        if n in training or n in near:
            how = "equal to" if n in training else f"within {NEAR_DISTANCE} edits of"
            found.setdefault(f"{text!r} is {how} a training example", set()).add(where)
    return [f"{problem} ({', '.join(sorted(found[problem]))})" for problem in sorted(found)]


def test_the_sources_are_found():
    stories = story_utterances()
    assert len(STORIES) >= 4 and len(stories) >= 40
    assert all(text and "](" not in text for _, text in stories), "entity annotations are stripped"
    assert {key for key, _ in simulator_utterances()} == {p.key for p in PERSONAS}
    assert len(simulator_utterances()) >= 300


def test_only_bare_values_are_exempt():
    for value in ("HCF-1001", "HCF-1001, 12 April 1988", "HCF-2002，1992年11月3日", "04/12/1988",
                  "April 12, 1988", "1992.11.3", "9,000", "1", "九千", "HCF-2002 1992-11-03"):
        assert only_values(value), value
    for wording in ("option 1", "it's HCF-1001", "born 12 April 1988", "方案1", "编号是HCF-2002", "选1",
                    "I earn 9000 a month", "hi", "同意", "一分钱都不还", "下周五还1250"):
        assert not only_values(wording), wording


def test_the_check_finds_equal_and_near_wording():
    training = {normalised("I want to talk to a human"), normalised("can I pay in instalments please")}
    assert overlapping([("s", "I want to talk to a human!")], training)
    assert overlapping([("s", "can I pay in instalment please")], training)
    assert overlapping([("s", "HCF-1001")], {normalised("HCF-1001")}) == []
    assert overlapping([("s", "could I split it into monthly payments")], training) == []


def test_story_tests_use_wording_that_is_not_training_data(training):
    found = overlapping(story_utterances(), training)
    assert found == [], f"{len(found)} story utterances are training data:\n" + "\n".join(found)


def test_simulator_uses_wording_that_is_not_training_data(training):
    found = overlapping(simulator_utterances(), training)
    assert found == [], f"{len(found)} simulator utterances are training data:\n" + "\n".join(found)
