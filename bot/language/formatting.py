"""Money and dates written for the borrower, in their language.

Money always shows two decimals and thousands separators. English uses the
ISO code before the number ("CNY 3,930.00"), which reads unambiguously in a
chat with people from anywhere; Chinese uses the symbol the borrower sees on
every bill ("¥3,930.00"). Both forms are read back by
:func:`bot.language.amounts.parse_amount`.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency

from bot.language.detect import Language

_LOCALES: dict[str, str] = {"en": "en_GB", "zh": "zh_Hans_CN"}
_MONEY_PATTERNS: dict[str, str] = {"en": "¤¤\u00a0#,##0.00", "zh": "¤#,##0.00"}
_DATE_PATTERNS: dict[str, str] = {"en": "d MMMM y", "zh": "y年M月d日"}


def format_money(amount: Decimal, currency: str, lang: Language) -> str:
    """``amount`` in ``currency`` for a borrower reading ``lang``, rounded half up to cents."""
    rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format_currency(
        rounded,
        currency.upper(),
        format=_MONEY_PATTERNS[lang],
        locale=_LOCALES[lang],
        currency_digits=False,
    )
    return text.replace("\u00a0", " ")


def format_date(d: date, lang: Language) -> str:
    """``d`` as a borrower reading ``lang`` writes it: "12 May 2026" / "2026年5月12日"."""
    return babel_format_date(d, format=_DATE_PATTERNS[lang], locale=_LOCALES[lang])
