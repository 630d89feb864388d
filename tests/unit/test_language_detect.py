"""Language detection: the language follows the borrower's latest message."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.language import detect_language


@pytest.mark.parametrize(
    "text",
    ["我的HCF-1001 还欠多少", "你好", "我可以每个月还500", "Hi 你好", "我想找人工 agent", "ＯＫ，我明白了"],
)
def test_chinese_or_mostly_chinese_text_is_zh(text: str) -> None:
    assert detect_language(text) == "zh"


@pytest.mark.parametrize(
    "text",
    ["How much do I still owe on HCF-1001?", "hello", "I paid via 支付宝 yesterday", "I can pay ¥500"],
)
def test_english_text_is_en(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("", "zh-hans", "zh"),
        ("😀👍", "zh-CN", "zh"),
        ("123456", "zh_TW", "zh"),
        ("HCF-1001", "zh", "zh"),
        ("2026-12-15", "en-GB", "en"),
        ("👍", "EN", "en"),
        ("👍", "fr", "en"),
        ("👍", None, "en"),
        ("", "", "en"),
    ],
)
def test_text_without_letters_follows_the_normalised_hint(text: str, hint: str | None, expected: str) -> None:
    assert detect_language(text, hint) == expected


def test_letters_win_over_the_hint() -> None:
    assert detect_language("hello", "zh-CN") == "en"
    assert detect_language("你好", "en-US") == "zh"


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1))
def test_any_string_of_han_characters_is_zh(text: str) -> None:
    assert detect_language(text, "en") == "zh"


_ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(list("0123456789年月日号周下个元块万千百两半,./-¥HCFk ")),
    ),
    max_size=40,
)


# deadline off: the first call may load dateparser's language data (~0.5 s)
@settings(deadline=None)
@given(_ANY_TEXT)
def test_no_borrower_text_makes_a_language_helper_raise(text: str) -> None:
    from datetime import date

    from bot.language import (
        classify_cause,
        is_temporary,
        parse_amounts,
        parse_date_of_birth,
        parse_duration_months,
        parse_future_date,
        parse_loan_ref,
    )

    today = date(2026, 5, 12)
    detect_language(text)
    parse_loan_ref(text)
    parse_amounts(text)
    parse_duration_months(text)
    parse_date_of_birth(text, today)
    result = parse_future_date(text, today)
    assert result is None or result >= today
    classify_cause(text)
    is_temporary(text)
