"""Money amounts and durations as borrowers write them, in both languages."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.language import format_money, parse_amount, parse_amounts, parse_duration_months


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6000", "6000"),
        ("6,000", "6000"),
        ("6k", "6000"),
        ("1.5k", "1500"),
        ("¥3,500", "3500"),
        ("￥3,500", "3500"),
        ("3500 a month", "3500"),
        ("RMB 980", "980"),
        ("RMB980", "980"),
        ("980元", "980"),
        ("CNY 3,930.00", "3930"),
        ("3,930.00元", "3930"),
        ("六千", "6000"),
        ("五千五百元", "5500"),
        ("两千五", "2500"),
        ("五百块", "500"),
        ("1.5万", "15000"),
        ("三万二", "32000"),
        ("一千二", "1200"),
        ("一千二百五十", "1250"),
        ("一千零五十块", "1050"),
        ("三十块钱", "30"),
        ("3千5", "3500"),
        ("我每个月能还两千五百块钱", "2500"),
        ("five hundred yuan", "500"),
        ("six thousand five hundred", "6500"),
        ("about 2 grand", "2000"),
        ("1234.567", "1234.57"),
        ("I can pay 0", "0"),
        ("１２００元", "1200"),
    ],
)
def test_amount_is_read_in_any_common_form(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected).quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HCF-1001 I can pay 2000", ["2000"]),
        ("pay 3000 on 2026-12-15", ["3000"]),
        ("15号还500", ["500"]),
        ("12月15日还两千", ["2000"]),
        ("I choose option 2, 500 per month", ["500"]),
        ("2000 for 6 months then 3000", ["2000", "3000"]),
        ("6000 or 3 months", ["6000"]),
        ("两到三个月 每月1000", ["1000"]),
        ("两个月后每月一千五百块", ["1500"]),
        ("6个月，每月800元", ["800"]),
        ("I can pay 1,234.56 by the 15th", ["1234.56"]),
        ("on 15 December I can pay 900", ["900"]),
        ("3 payments of 2000", ["2000"]),
        ("at 10:30 I will pay 200", ["200"]),
        ("I earned 4000 since 2020", ["4000"]),
        ("rent 2000, food 1,500 and 6k for the kids", ["2000", "1500", "6000"]),
        ("第2个方案，每月三千", ["3000"]),
    ],
)
def test_all_amounts_are_found_in_order_and_non_money_numbers_ignored(text: str, expected: list[str]) -> None:
    assert parse_amounts(text) == [Decimal(e).quantize(Decimal("0.01")) for e in expected]


@pytest.mark.parametrize(
    "text",
    [
        "HCF-1001",
        "2026-12-15",
        "15/12/2026",
        "15号",
        "12月15日",
        "2 months",
        "两个月",
        "6个月",
        "option 2",
        "方案2",
        "the 15th",
        "20%",
        "call me on 13812345678",
        "等我一下",
        "千万别催我",
        "万一还不上怎么办",
        "十分感谢",
        "zero interest please",
        "I have nothing else to say",
        "",
    ],
)
def test_text_without_money_gives_no_amount(text: str) -> None:
    assert parse_amount(text) is None


@pytest.mark.parametrize(
    "text",
    ["no income", "I have no income", "zero", "Nothing.", "none", "I earn nothing", "income is zero",
     "没有收入", "我现在没收入", "零", "收入为零", "一分钱都没有"],
)
def test_zero_statement_is_read_as_zero(text: str) -> None:
    assert parse_amount(text) == Decimal("0.00")


def test_a_numeric_amount_wins_over_a_zero_statement() -> None:
    assert parse_amount("I have no income but my wife earns 3000") == Decimal("3000.00")


def test_zero_statement_is_not_an_amount_in_the_list() -> None:
    assert parse_amounts("no income") == []


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("about two months", 2),
        ("3 months", 3),
        ("half a year", 6),
        ("a few weeks", 1),
        ("6 weeks", 2),
        ("4 weeks", 1),
        ("10 days", 1),
        ("a couple of months", 2),
        ("a year and a half", 18),
        ("2-3 months", 3),
        ("两个月", 2),
        ("三个月左右", 3),
        ("半年", 6),
        ("一年", 12),
        ("一年半", 18),
        ("一个半月", 2),
        ("两三个月", 3),
        ("几个月", 3),
        ("十天", 1),
        ("两周", 1),
    ],
)
def test_duration_is_whole_months_rounded_up(text: str, months: int) -> None:
    assert parse_duration_months(text) == months


@pytest.mark.parametrize("text", ["forever", "12月15日", "2026年", "三月", "I don't know", ""])
def test_text_without_a_duration_gives_none(text: str) -> None:
    assert parse_duration_months(text) is None


_AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=2)


@given(_AMOUNTS)
def test_any_amount_in_plain_or_grouped_or_yen_form_parses_back_exactly(amount: Decimal) -> None:
    for text in (f"{amount:,.2f}", f"{amount:.2f}", f"¥{amount:,.2f}", f"{amount:,.2f}元"):
        assert parse_amount(text) == amount, text


@given(_AMOUNTS, st.sampled_from(["en", "zh"]))
def test_formatted_money_parses_back_exactly(amount: Decimal, lang: str) -> None:
    assert parse_amount(format_money(amount, "CNY", lang)) == amount  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=99_999))
def test_chinese_numerals_parse_back_to_the_integer(number: int) -> None:
    import cn2an

    assert parse_amount(cn2an.an2cn(number) + "元") == Decimal(number)
