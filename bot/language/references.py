"""Loan references in borrower text: finding them, and masking them out.

A reference has the lender's format (the LOAN_REFERENCE_FORMAT setting, by default
"HCF-" and 4-8 digits: ``bot.accounts.reference_format``) written in any of the ways
borrowers type it: any case, any separator or none ("HCF-1001", "hcf 1001", "HCF1001",
"hcf_1001", "HCF–1001"), full-width ("ＨＣＦ－１００１"). It is always returned in canonical
form ("HCF-1001"), so nothing else the borrower typed (quotes, SQL, markup) can travel
with it.
"""
from __future__ import annotations

import re
from functools import lru_cache

from bot.accounts.reference_format import LoanReferenceFormat
from bot.config import loan_reference_format
from bot.language.text import collapse_whitespace, prepare

# Dashes and separators people put between prefix and digits (after NFKC); the canonical
# separators (reference_format.SEPARATORS) are among them.
_SEPARATORS = r"[\s\-_‐‑‒–—―.#:/]{0,3}"


@lru_cache(maxsize=8)
def _pattern(reference_format: LoanReferenceFormat) -> re.Pattern[str]:
    # Not preceded by an ASCII letter/digit (so "XHCF1001" is not a ref), and
    # the digit run must end where the match ends (no digit beyond the maximum).
    return re.compile(
        rf"(?<![A-Za-z0-9]){re.escape(reference_format.prefix)}{_SEPARATORS}"
        rf"(\d{{{reference_format.min_digits},{reference_format.max_digits}}})(?!\d)",
        re.IGNORECASE,
    )


def loan_reference_pattern() -> re.Pattern[str]:
    """The pattern finding references of the configured format in prepared text; group 1 is the digits."""
    return _pattern(loan_reference_format())


def parse_loan_ref(text: str) -> str | None:
    """The first loan reference in ``text`` in canonical form, or None."""
    reference_format = loan_reference_format()
    match = _pattern(reference_format).search(prepare(text))
    if match is None:
        return None
    return reference_format.canonical(match.group(1))


def mask_loan_refs(normalised_text: str) -> str:
    """``normalised_text`` with every loan reference blanked out by spaces.

    Same length as the input, so positions found afterwards still line up.
    Call it on text already passed through :func:`bot.language.text.prepare`.
    """
    return loan_reference_pattern().sub(lambda m: " " * len(m.group(0)), normalised_text)


def prepare_without_refs(text: str) -> str:
    """``text`` prepared for parsing (:func:`bot.language.text.prepare`), loan references removed.

    Masking leaves runs of spaces; they are collapsed again so that patterns see single spaces.
    """
    return collapse_whitespace(mask_loan_refs(prepare(text)))
