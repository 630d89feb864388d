"""Money and dates written back to the borrower in their language."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.language import format_date, format_money


@pytest.mark.parametrize(
    ("amount", "lang", "expected"),
    [
        ("3930", "en", "CNY 3,930.00"),
        ("3930", "zh", "¥3,930.00"),
        ("0", "en", "CNY 0.00"),
        ("1234567.891", "zh", "¥1,234,567.89"),
        ("0.005", "en", "CNY 0.01"),
        ("0.125", "zh", "¥0.13"),
        ("-250", "en", "-CNY 250.00"),
    ],
)
def test_money_has_two_decimals_and_thousands_separators(amount: str, lang: str, expected: str) -> None:
    assert format_money(Decimal(amount), "CNY", lang) == expected  # type: ignore[arg-type]


def test_money_in_another_currency_names_that_currency() -> None:
    assert format_money(Decimal("10"), "usd", "en") == "USD 10.00"


@pytest.mark.parametrize(
    ("d", "lang", "expected"),
    [
        (date(2026, 5, 12), "en", "12 May 2026"),
        (date(2026, 5, 12), "zh", "2026年5月12日"),
        (date(2027, 1, 1), "en", "1 January 2027"),
        (date(2027, 12, 31), "zh", "2027年12月31日"),
    ],
)
def test_date_is_written_as_the_borrower_writes_it(d: date, lang: str, expected: str) -> None:
    assert format_date(d, lang) == expected  # type: ignore[arg-type]
