"""Dates of birth and promise-to-pay dates, in English and Chinese."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.language import DateParse, format_date, parse_date_of_birth, parse_future_date

TODAY = date(2026, 5, 12)  # a Tuesday
BIRTHDAY = date(1988, 4, 12)


@pytest.mark.parametrize(
    "text",
    [
        "1988-04-12",
        "1988/4/12",
        "1988.4.12",
        "12/04/1988",
        "12.04.1988",
        "12-04-1988",
        "12/04/88",
        "19880412",
        "12 April 1988",
        "12th of April, 1988",
        "12-Apr-1988",
        "April 12 1988",
        "April 12, 1988",
        "Apr 12th, 1988",
        "1988年4月12日",
        "1988年04月12号",
        "八八年四月十二日",
        "一九八八年四月十二日",
        "HCF-1001 1988-04-12",
        "my birthday is 12/04/1988, loan HCF-1001",
        "１９８８－０４－１２",
    ],
)
def test_date_of_birth_is_read_in_any_common_form(text: str) -> None:
    assert parse_date_of_birth(text, TODAY) == DateParse(BIRTHDAY, False)


def test_slashed_date_is_month_first_only_when_day_first_cannot_be() -> None:
    assert parse_date_of_birth("04/30/1988", TODAY).value == date(1988, 4, 30)
    assert parse_date_of_birth("05/04/1988", TODAY).value == date(1988, 4, 5)


@pytest.mark.parametrize("text", ["1990-02-30", "31/04/1990", "1990年2月30日", "30 February 1990", "1990-13-01"])
def test_date_that_does_not_exist_is_flagged_impossible(text: str) -> None:
    assert parse_date_of_birth(text, TODAY) == DateParse(None, True)


@pytest.mark.parametrize("text", ["2030-01-01", "1890-01-01", "no idea", "", "HCF-19880412"])
def test_future_implausibly_old_or_missing_birth_date_gives_none(text: str) -> None:
    assert parse_date_of_birth(text, TODAY) == DateParse(None, False)


def test_an_existing_date_wins_over_an_impossible_one() -> None:
    assert parse_date_of_birth("not 1990-02-30, I mean 1990-02-28", TODAY).value == date(1990, 2, 28)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("next Friday", date(2026, 5, 22)),
        ("on Friday", date(2026, 5, 15)),
        ("this friday", date(2026, 5, 15)),
        ("Tuesday", date(2026, 5, 19)),
        ("tomorrow", date(2026, 5, 13)),
        ("today", TODAY),
        ("day after tomorrow", date(2026, 5, 14)),
        ("in 2 weeks", date(2026, 5, 26)),
        ("in a month", date(2026, 6, 12)),
        ("3 days from now", date(2026, 5, 15)),
        ("the 15th", date(2026, 5, 15)),
        ("on the 10th", date(2026, 6, 10)),
        ("15 December", date(2026, 12, 15)),
        ("December 15th", date(2026, 12, 15)),
        ("10 May", date(2027, 5, 10)),
        ("2026-12-15", date(2026, 12, 15)),
        ("15/12/2026", date(2026, 12, 15)),
        ("end of the month", date(2026, 5, 31)),
        ("I'll pay 500 next Friday", date(2026, 5, 22)),
        ("HCF-1001 tomorrow", date(2026, 5, 13)),
        ("下周五", date(2026, 5, 22)),
        ("下星期一", date(2026, 5, 18)),
        ("周五", date(2026, 5, 15)),
        ("明天", date(2026, 5, 13)),
        ("后天", date(2026, 5, 14)),
        ("大后天", date(2026, 5, 15)),
        ("15号", date(2026, 5, 15)),
        ("10号", date(2026, 6, 10)),
        ("十五号", date(2026, 5, 15)),
        ("12月15日", date(2026, 12, 15)),
        ("两周后", date(2026, 5, 26)),
        ("三天后", date(2026, 5, 15)),
        ("下个月5号", date(2026, 6, 5)),
        ("月底", date(2026, 5, 31)),
        ("2026年12月15日", date(2026, 12, 15)),
    ],
)
def test_future_date_is_read_in_both_languages(text: str, expected: date) -> None:
    assert parse_future_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["2025-12-15", "这周一", "I can pay 2000", "hello", "", "2035-01-01"])
def test_past_far_or_missing_promise_date_gives_none(text: str) -> None:
    assert parse_future_date(text, TODAY) is None


_DATES = st.dates(min_value=date(1907, 1, 1), max_value=TODAY)


@given(_DATES)
def test_any_birth_date_parses_back_from_every_rendering(d: date) -> None:
    renderings = [
        d.isoformat(),
        f"{d.day:02d}/{d.month:02d}/{d.year}",
        f"{d.day} {d:%B} {d.year}",
        f"{d.year}年{d.month}月{d.day}日",
        format_date(d, "en"),
        format_date(d, "zh"),
    ]
    for text in renderings:
        assert parse_date_of_birth(text, TODAY) == DateParse(d, False), text


@given(st.dates(min_value=TODAY, max_value=TODAY + timedelta(days=700)), st.sampled_from(["en", "zh"]))
def test_any_formatted_future_date_parses_back(d: date, lang: str) -> None:
    assert parse_future_date(format_date(d, lang), TODAY) == d  # type: ignore[arg-type]


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
       st.sampled_from(["tomorrow", "next Friday", "the 15th", "下周五", "15号", "两周后", "in 3 weeks", "月底"]))
def test_a_promise_date_is_never_before_today(today: date, text: str) -> None:
    result = parse_future_date(text, today)
    assert result is not None and result >= today
