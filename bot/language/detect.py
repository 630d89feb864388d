"""Which of the assistant's two languages a borrower's message is written in.

The language follows the borrower's latest message. Han characters are
compared with Latin *words* (not letters: one Han character carries about as
much as one English word), after loan references of the configured format
(LOAN_REFERENCE_FORMAT, ``bot.language.references``) are removed, so with the
default format "我的HCF-1001 还欠多少" is Chinese. A message with no letters at all
(digits, emoji, a bare loan reference) falls back to the channel's hint, e.g.
Telegram's ``language_code``.
"""
from __future__ import annotations

import re
from typing import Literal

from bot.language.references import prepare_without_refs

Language = Literal["en", "zh"]

DEFAULT_LANGUAGE: Language = "en"

_HAN = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef\U00030000-\U0003134f]"
)
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


def normalise_language_hint(hint: str | None) -> Language | None:
    """Map a locale tag ("zh-hans", "zh_CN", "en-GB", "EN") to a Language."""
    if not hint:
        return None
    primary = re.split(r"[-_]", hint.strip().lower(), maxsplit=1)[0]
    if primary == "zh":
        return "zh"
    if primary == "en":
        return "en"
    return None


def detect_language(text: str, hint: str | None = None) -> Language:
    """The language of ``text``; ``hint`` decides only when there are no letters.

    Rule: "zh" when the Han characters are at least as many as the Latin
    words (loan references not counted); "en" when there are Latin words and
    fewer Han characters; otherwise the normalised hint, else "en".
    """
    cleaned = prepare_without_refs(text)
    han = len(_HAN.findall(cleaned))
    latin_words = len(_LATIN_WORD.findall(cleaned))
    if han and han >= latin_words:
        return "zh"
    if latin_words:
        return "en"
    return normalise_language_hint(hint) or DEFAULT_LANGUAGE
