"""Comparing texts with the NLU training data: the normaliser and the near-duplicate check
shared by the test-set and conversation-wording tests."""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from pathlib import Path

NOT_A_WORD = re.compile(r"[^\w]|_", re.UNICODE)
NEAR_MIN_CHARS, NEAR_DISTANCE = 20, 2


def normalised(text: str) -> str:
    """Case, punctuation, spaces and full/half width folded away."""
    return NOT_A_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def within_edit_distance(a: str, b: str, limit: int) -> bool:
    """Levenshtein distance <= limit, computed in a band of width 2*limit+1 with early exit."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        low, high = max(1, i - limit), min(len(b), i + limit)
        current = [i] + [limit + 1] * len(b)
        for j in range(low, high + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != b[j - 1]))
        if min(current[low - 1:high + 1]) > limit:
            return False
        previous = current
    return previous[len(b)] <= limit


def near_duplicates(texts: list[str], training_by_length: dict[int, list[str]]) -> list[str]:
    """The (normalised) texts longer than NEAR_MIN_CHARS within NEAR_DISTANCE edits of a training text."""
    found = []
    for text in texts:
        if len(text) <= NEAR_MIN_CHARS:
            continue
        candidates = (t for n in range(len(text) - NEAR_DISTANCE, len(text) + NEAR_DISTANCE + 1)
                      for t in training_by_length.get(n, ()))
        if any(within_edit_distance(text, candidate, NEAR_DISTANCE) for candidate in candidates):
            found.append(text)
    return found


def examples(path: Path | str) -> list[tuple[str, str]]:
    """(text, intent) of every intent example in an NLU file, entity annotations removed by Rasa."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def training_texts(project_root: Path) -> set[str]:
    """Every training example of data/nlu (all languages), normalised."""
    files = sorted((project_root / "data" / "nlu").rglob("*.yml"))
    assert len(files) >= 13
    return {normalised(text) for path in files for text, _ in examples(path)}


def by_length(texts: set[str] | list[str]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    for text in texts:
        grouped[len(text)].append(text)
    return grouped
