"""The shape of the lender's loan references, read from one template (the LOAN_REFERENCE_FORMAT setting).

A template is a prefix of letters, an optional separator, then the digits: ``#`` is one
digit, ``#{m,n}`` is m to n digits, ``#{n}`` exactly n.

- ``HCF-#{4,8}`` (the default): "HCF-" then 4 to 8 digits, e.g. HCF-1001;
- ``LN/######``: "LN/" then exactly 6 digits, e.g. LN/123456;
- ``ACC#{6,10}``: "ACC" directly followed by 6 to 10 digits, e.g. ACC123456.

The template gives the canonical form (prefix and separator exactly as written) and the
example shown to borrowers. How borrowers actually type a reference (any case, other
separators, full-width forms) is read by ``bot.language.references``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_TEMPLATE = "HCF-#{4,8}"

SEPARATORS = "-/._:"  # the separators a canonical reference may have between prefix and digits
MIN_PREFIX, MAX_PREFIX = 2, 10
# Fewer than 4 digits and a reference reads like an amount or a day ("LN 300"): references are
# masked out of a message before amounts and dates are read from it.
MIN_DIGITS, MAX_DIGITS = 4, 16

_TEMPLATE = re.compile(
    rf"(?P<prefix>[A-Za-z]+)(?P<separator>[{re.escape(SEPARATORS)}]?)"
    r"(?:(?P<hashes>#+)|#\{(?P<low>\d{1,3})(?:,(?P<high>\d{1,3}))?\})"
)
_EXAMPLE_DIGITS = "1234567890123456"


class ReferenceFormatError(ValueError):
    """A template that does not describe a loan reference; the message says what is wrong."""


@dataclass(frozen=True)
class LoanReferenceFormat:
    prefix: str
    separator: str
    min_digits: int
    max_digits: int

    @property
    def template(self) -> str:
        """The format written as a template ("HCF-#{4,8}", "LN/######")."""
        if self.min_digits == self.max_digits:
            return f"{self.prefix}{self.separator}{'#' * self.min_digits}"
        return f"{self.prefix}{self.separator}#{{{self.min_digits},{self.max_digits}}}"

    @property
    def example(self) -> str:
        """A reference of this format to show borrowers: "HCF-1234" for the default."""
        return self.canonical(_EXAMPLE_DIGITS[: self.min_digits])

    def canonical(self, digits: str) -> str:
        """The reference with these digits as the lender writes it."""
        return f"{self.prefix}{self.separator}{digits}"

    def is_canonical(self, value: str) -> bool:
        """Whether ``value`` is exactly a reference as the lender writes it (ASCII digits, nothing around)."""
        head = self.prefix + self.separator
        digits = value[len(head):]
        return (value.startswith(head) and self.min_digits <= len(digits) <= self.max_digits
                and digits.isascii() and digits.isdigit())


def parse_reference_format(template: str) -> LoanReferenceFormat:
    """The format a template describes; ReferenceFormatError saying what is wrong otherwise."""
    match = _TEMPLATE.fullmatch(template.strip())
    if match is None:
        raise ReferenceFormatError(
            f"not a reference template: letters, an optional separator ({' '.join(SEPARATORS)}), then '#' "
            f"for each digit or '#{{m,n}}' for m to n digits, e.g. {DEFAULT_TEMPLATE!r} or 'LN/######'")
    prefix, separator = match["prefix"], match["separator"]
    if match["hashes"]:
        low = high = len(match["hashes"])
    else:
        low = int(match["low"])
        high = int(match["high"]) if match["high"] is not None else low
    if not MIN_PREFIX <= len(prefix) <= MAX_PREFIX:
        raise ReferenceFormatError(f"the prefix {prefix!r} must have {MIN_PREFIX} to {MAX_PREFIX} letters")
    if low > high:
        raise ReferenceFormatError(f"at least {low} digits but at most {high}")
    if low < MIN_DIGITS:
        raise ReferenceFormatError(
            f"at least {MIN_DIGITS} digits (shorter references read like amounts or days in borrowers' messages)")
    if high > MAX_DIGITS:
        raise ReferenceFormatError(f"at most {MAX_DIGITS} digits")
    return LoanReferenceFormat(prefix=prefix, separator=separator, min_digits=low, max_digits=high)


DEFAULT_FORMAT = parse_reference_format(DEFAULT_TEMPLATE)
