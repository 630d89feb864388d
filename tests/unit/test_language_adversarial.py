"""Every public parser reads adversarial messages of MAX_MESSAGE_CHARS characters correctly.

Long runs of whitespace, digits and Chinese numerals once made the amount patterns backtrack
for over a minute (issue 9). These tests assert what each parser returns on such text; how
long it takes is measured by ``python -m bench.parse_time``, not here.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.language import (
    DateParse,
    HardshipCause,
    classify_cause,
    detect_language,
    is_temporary,
    parse_amount,
    parse_amounts,
    parse_date_of_birth,
    parse_duration_months,
    parse_future_date,
    parse_loan_ref,
)
from bot.language.safety import mentions_self_harm
from bot.messages.limits import MAX_MESSAGE_CHARS

N = MAX_MESSAGE_CHARS
TODAY = date(2026, 5, 12)  # a Tuesday


def spread(head: str, tail: str) -> str:
    """``head`` and ``tail`` with spaces between them, MAX_MESSAGE_CHARS long in all."""
    return head + " " * (N - len(head) - len(tail)) + tail


def dob(text: str) -> DateParse:
    return parse_date_of_birth(text, TODAY)


def promise(text: str) -> date | None:
    return parse_future_date(text, TODAY)


ONE_SPACE_REPEATED = "1 " * (N // 2)
HAN_RUN = "一" * N

CASES: list[tuple[str, Callable[[str], Any], str, Any]] = [
    ("two digits far apart", parse_amounts, "1" + " " * (N - 2) + "2", [Decimal("1.00"), Decimal("2.00")]),
    ("a thousand ones", parse_amounts, ONE_SPACE_REPEATED, [Decimal("1.00")] * (N // 2)),
    ("numerals without magnitude", parse_amounts, HAN_RUN, []),
    ("numerals spaced", parse_amounts, "一 " * (N // 2), []),
    ("offer and currency far apart", parse_amounts, spread("I can pay 500", "yuan a month"), [Decimal("500.00")]),
    ("range far apart is a duration", parse_amounts, spread("pay 800 for 2 to", "3 months"), [Decimal("800.00")]),
    ("zero statement spread", parse_amount, spread("I have", "no income"), Decimal("0.00")),
    ("numeral run", parse_amount, HAN_RUN, None),
    ("duration spread", parse_duration_months, spread("about two", "months"), 2),
    ("Chinese duration spread", parse_duration_months, spread("两", "个月"), 2),
    ("numeral run has no duration", parse_duration_months, HAN_RUN, None),
    ("ones have no duration", parse_duration_months, ONE_SPACE_REPEATED, None),
    ("birth date spread", dob, spread("12", "April 1988"), DateParse(date(1988, 4, 12), False)),
    ("ISO birth date spread", dob, spread("1988" + " " * 900 + "-", "04 - 12"), DateParse(date(1988, 4, 12), False)),
    ("ones are no birth date", dob, ONE_SPACE_REPEATED, DateParse(None, False)),
    ("numeral run is no birth date", dob, HAN_RUN, DateParse(None, False)),
    ("ones are no promise date", promise, ONE_SPACE_REPEATED, None),
    ("numeral run is no promise date", promise, HAN_RUN, None),
    ("weekday spread", promise, spread("next", "Friday"), date(2026, 5, 22)),
    ("Chinese day of next month spread", promise, spread("下个月", "5号"), date(2026, 6, 5)),
    ("relative date spread", promise, spread("in 2", "weeks"), date(2026, 5, 26)),
    ("cause spread", classify_cause, spread("I lost my", "job"), HardshipCause.JOB_LOSS),
    ("numeral run names no cause", classify_cause, HAN_RUN, None),
    ("temporary spread", is_temporary, spread("only for a", "few months"), True),
    ("loan reference spread", parse_loan_ref, spread("HCF", "1001"), "HCF-1001"),
    ("numeral run is Chinese", detect_language, HAN_RUN, "zh"),
    ("self-harm spread", mentions_self_harm, spread("I want", "to die"), True),
    ("ones mention no self-harm", mentions_self_harm, ONE_SPACE_REPEATED, False),
]


@pytest.mark.parametrize(("parse", "text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parser_reads_an_adversarial_message_of_the_maximum_length(
    parse: Callable[[str], Any], text: str, expected: Any
) -> None:
    assert len(text) == N
    assert parse(text) == expected


def test_a_long_run_of_numbers_is_no_promise_date_rather_than_an_error() -> None:
    # dateparser's tokeniser recursed once per token and raised RecursionError here
    assert promise("1 " * 1000) is None


# (parser, a message it reads, what it reads from it)
READABLE: list[tuple[Callable[[str], Any], str, Any]] = [
    (parse_amount, "I can pay 500", Decimal("500.00")),
    (parse_amounts, "I can pay 500", [Decimal("500.00")]),
    (parse_duration_months, "3 months", 3),
    (dob, "1988-04-12", DateParse(date(1988, 4, 12), False)),
    (promise, "tomorrow", date(2026, 5, 13)),
    (classify_cause, "I lost my job", HardshipCause.JOB_LOSS),
    (is_temporary, "only temporary", True),
    (parse_loan_ref, "HCF-1001", "HCF-1001"),
    (detect_language, "我想还款", "zh"),
    (mentions_self_harm, "I want to die", True),
]


@pytest.mark.parametrize(("parse", "message", "expected"), READABLE)
def test_parser_reads_no_further_than_the_maximum_length(parse: Callable[[str], Any], message: str, expected: Any) -> None:
    filler = ". " * (N // 2)  # nothing any parser reads, and no language
    assert parse(filler[: N - len(message)] + message) == expected  # the last characters it reads
    assert parse(filler + " " + message) != expected  # beyond the cap


_TOKENS = ["I", "can", "pay", "500", "yuan", "HCF-1001", "1988-04-12", "12", "April", "1988", "next", "Friday",
           "for", "2", "to", "3", "months", "两", "个月", "五百", "元", "下个月", "5号", "lost", "my", "job",
           "temporary", "一", "1", "-", "/", "of", "a", "few", "weeks", "no", "income", "k", "万"]
_GAPS = st.text(alphabet=" \t\n\u3000\u00a0", min_size=1, max_size=400)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_TOKENS), _GAPS), min_size=1, max_size=12))
def test_runs_of_whitespace_read_as_one_space(pieces: list[tuple[str, str]]) -> None:
    spaced = "".join(token + gap for token, gap in pieces)[:N]
    tokens = spaced.split()
    plain = " ".join(tokens)
    for parse in (parse_amounts, parse_duration_months, dob, promise, classify_cause, is_temporary, parse_loan_ref):
        assert parse(spaced) == parse(plain), parse
