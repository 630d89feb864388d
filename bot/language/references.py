"""Loan references in borrower text: finding them, and masking them out.

A reference is ``LOAN_REF_PREFIX`` followed by 4-8 digits, written in any of
the ways borrowers type it ("HCF-1001", "hcf 1001", "HCF1001", "hcf_1001",
full-width "ＨＣＦ－１００１"). It is always returned in canonical form
("HCF-1001"), so nothing else the borrower typed (quotes, SQL, markup) can
travel with it.
"""
from __future__ import annotations

import re
from functools import lru_cache

from bot.language.text import collapse_whitespace, prepare

LOAN_REF_PREFIX = "HCF"
LOAN_REF_MIN_DIGITS = 4
LOAN_REF_MAX_DIGITS = 8

# Dashes and separators people put between prefix and digits (after NFKC).
_SEPARATORS = r"[\s\-_‐‑‒–—―.#:/]{0,3}"


@lru_cache(maxsize=8)
def _pattern(prefix: str) -> re.Pattern[str]:
    # Not preceded by an ASCII letter/digit (so "XHCF1001" is not a ref), and
    # the digit run must end where the match ends (no 9th digit).
    return re.compile(
        rf"(?<![A-Za-z0-9]){re.escape(prefix)}{_SEPARATORS}"
        rf"(\d{{{LOAN_REF_MIN_DIGITS},{LOAN_REF_MAX_DIGITS}}})(?!\d)",
        re.IGNORECASE,
    )


def parse_loan_ref(text: str) -> str | None:
    """The first loan reference in ``text`` in canonical form, or None."""
    match = _pattern(LOAN_REF_PREFIX).search(prepare(text))
    if match is None:
        return None
    return f"{LOAN_REF_PREFIX.upper()}-{match.group(1)}"


def mask_loan_refs(normalised_text: str) -> str:
    """``normalised_text`` with every loan reference blanked out by spaces.

    Same length as the input, so positions found afterwards still line up.
    Call it on text already passed through :func:`bot.language.text.prepare`.
    """
    return _pattern(LOAN_REF_PREFIX).sub(
        lambda m: " " * len(m.group(0)), normalised_text
    )


def prepare_without_refs(text: str) -> str:
    """``text`` prepared for parsing (:func:`bot.language.text.prepare`), loan references removed.

    Masking leaves runs of spaces; they are collapsed again so that patterns see single spaces.
    """
    return collapse_whitespace(mask_loan_refs(prepare(text)))
