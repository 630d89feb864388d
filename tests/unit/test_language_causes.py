"""Hardship causes and whether the hardship is temporary."""
from __future__ import annotations

import pytest

from bot.language import HardshipCause, classify_cause, is_temporary


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("I have medical bills to pay", HardshipCause.ILLNESS),
        ("I was in hospital for a week", HardshipCause.ILLNESS),
        ("住院了", HardshipCause.ILLNESS),
        ("医药费太贵了", HardshipCause.ILLNESS),
        ("I lost my job", HardshipCause.JOB_LOSS),
        ("got laid off in March", HardshipCause.JOB_LOSS),
        ("失业了", HardshipCause.JOB_LOSS),
        ("我被裁了", HardshipCause.JOB_LOSS),
        ("I had a pay cut", HardshipCause.REDUCED_INCOME),
        ("公司降薪", HardshipCause.REDUCED_INCOME),
        ("my business is struggling", HardshipCause.BUSINESS),
        ("生意不好做", HardshipCause.BUSINESS),
        ("going through a divorce", HardshipCause.FAMILY),
        ("离婚了", HardshipCause.FAMILY),
        ("my father passed away", HardshipCause.BEREAVEMENT),
        ("I lost my mother last month", HardshipCause.BEREAVEMENT),
        ("我爸去世了", HardshipCause.BEREAVEMENT),
        ("our house was hit by a flood", HardshipCause.DISASTER),
        ("老家地震", HardshipCause.DISASTER),
        ("洪水把店冲了", HardshipCause.DISASTER),
        ("I don't owe this, wrong amount", HardshipCause.DISPUTE),
        ("这笔不是我借的", HardshipCause.DISPUTE),
        ("sorry I forgot", HardshipCause.FORGOT),
        ("我忘了还款日", HardshipCause.FORGOT),
        ("personal reasons", HardshipCause.OTHER),
        ("其他原因", HardshipCause.OTHER),
    ],
)
def test_cause_is_classified_in_both_languages(text: str, cause: HardshipCause) -> None:
    assert classify_cause(text) == cause


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("I got fired after being sick", HardshipCause.ILLNESS),
        ("my wife died and I lost my job", HardshipCause.BEREAVEMENT),
        ("公司倒闭了我失业了", HardshipCause.JOB_LOSS),
    ],
)
def test_the_most_specific_cause_wins(text: str, cause: HardshipCause) -> None:
    assert classify_cause(text) == cause


@pytest.mark.parametrize("text", ["hello", "I will pay", "你好", "", "I'll call you back"])
def test_text_naming_no_cause_gives_none(text: str) -> None:
    assert classify_cause(text) is None


def test_cause_values_are_stable_strings() -> None:
    assert HardshipCause.JOB_LOSS == "job_loss"
    assert HardshipCause("reduced_income") is HardshipCause.REDUCED_INCOME


@pytest.mark.parametrize(
    "text",
    ["it's temporary", "only for a couple of months", "until I find work", "I expect new work soon",
     "not permanent", "暂时的", "找到工作就还", "过几个月就好了"],
)
def test_passing_hardship_is_temporary(text: str) -> None:
    assert is_temporary(text) is True


@pytest.mark.parametrize(
    "text",
    ["it's permanent", "disabled for life", "it is not temporary", "我再也不能工作了", "永久的", "长期病"],
)
def test_lasting_hardship_is_not_temporary(text: str) -> None:
    assert is_temporary(text) is False


@pytest.mark.parametrize("text", ["I lost my job", "失业了", "", "I'll pay as soon as possible"])
def test_unstated_outlook_is_none(text: str) -> None:
    assert is_temporary(text) is None
