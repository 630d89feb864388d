"""Loan references are found however they are typed, and only in canonical form."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.language import parse_loan_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HCF-1001", "HCF-1001"),
        ("hcf 1001", "HCF-1001"),
        ("HCF1001", "HCF-1001"),
        ("hcf_1001", "HCF-1001"),
        ("ＨＣＦ－１００１", "HCF-1001"),
        ("my loan is HCF-12345678, thanks", "HCF-12345678"),
        ("我的HCF1001还欠多少", "HCF-1001"),
        ("HCF–2002 (en dash)", "HCF-2002"),
        ("HCF-1001'; DROP TABLE loans;--", "HCF-1001"),
        ("HCF-1001' OR '1'='1", "HCF-1001"),
    ],
)
def test_loan_reference_is_returned_canonical(text: str, expected: str) -> None:
    assert parse_loan_ref(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "' OR 1=1 --",
        "",
        "HCF-123",  # too few digits
        "HCF-123456789",  # too many digits
        "XHCF1001",  # part of another word
        "ABC-1001",
        "1001",
    ],
)
def test_text_without_a_loan_reference_gives_none(text: str) -> None:
    assert parse_loan_ref(text) is None


@given(st.integers(min_value=1000, max_value=99_999_999), st.sampled_from(["-", " ", "", "_"]), st.text())
def test_any_valid_reference_is_found_after_any_separator(number: int, separator: str, tail: str) -> None:
    result = parse_loan_ref(f"hcf{separator}{number} {tail}")
    assert result == f"HCF-{number}"
