"""Borrower text as every parser in bot/language reads it.

``prepare`` is the one entry every public parser goes through: at most
``MAX_MESSAGE_CHARS`` characters (channels refuse longer messages; the cap here
is a second line of defence for any other caller), full-width forms folded to
ASCII (NFKC), and every run of whitespace turned into one space.

Because whitespace is a single space after ``prepare``, the patterns match
``" "`` and ``" ?"`` where they would otherwise write ``\\s+`` and ``\\s*``:
a bounded space cannot be split between two quantifiers in many ways, which is
what made "1", 900 spaces, "2" take 67 s (tests/unit/test_pattern_lint.py
keeps every pattern free of that shape).
"""
from __future__ import annotations

import re
import unicodedata

from bot.messages.limits import MAX_MESSAGE_CHARS

_WHITESPACE_RUN = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Fold full-width letters, digits and punctuation to ASCII (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def collapse_whitespace(text: str) -> str:
    """``text`` with every run of whitespace (spaces, tabs, newlines, ideographic space) as one space."""
    return _WHITESPACE_RUN.sub(" ", text)


def prepare(text: str | None) -> str:
    """``text`` capped at MAX_MESSAGE_CHARS, NFKC-normalised, whitespace runs collapsed."""
    if not text:
        return ""
    # NFKC can lengthen text (one ligature becomes up to 18 characters), hence the second cap.
    return collapse_whitespace(normalise(text[:MAX_MESSAGE_CHARS]))[:MAX_MESSAGE_CHARS]
