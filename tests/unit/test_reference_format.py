"""The loan reference format is a setting (LOAN_REFERENCE_FORMAT): one template gives the
canonical form, the example shown to borrowers, and what is recognised in their messages."""
from __future__ import annotations

import string
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.accounts.reference_format import (
    DEFAULT_FORMAT, SEPARATORS, LoanReferenceFormat, ReferenceFormatError, parse_reference_format,
)
from bot.config import ConfigError, load_settings, loan_reference_format
from bot.language import detect_language, parse_amounts, parse_date_of_birth, parse_loan_ref
from tests.conftest import PROJECT_ROOT

# ---- the template ---------------------------------------------------------------------------------------


def test_the_default_is_hcf_and_4_to_8_digits_shown_as_hcf_1234(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    assert loan_reference_format() == DEFAULT_FORMAT == LoanReferenceFormat("HCF", "-", 4, 8)
    assert DEFAULT_FORMAT.example == "HCF-1234"
    assert load_settings().loan_reference_format == DEFAULT_FORMAT


@pytest.mark.parametrize(("template", "expected", "example", "written"), [
    ("HCF-#{4,8}", LoanReferenceFormat("HCF", "-", 4, 8), "HCF-1234", "HCF-#{4,8}"),
    ("LN/######", LoanReferenceFormat("LN", "/", 6, 6), "LN/123456", "LN/######"),
    ("ACC#{6,10}", LoanReferenceFormat("ACC", "", 6, 10), "ACC123456", "ACC#{6,10}"),
    ("ref.#{5}", LoanReferenceFormat("ref", ".", 5, 5), "ref.12345", "ref.#####"),
    ("  KX_#{4,16} ", LoanReferenceFormat("KX", "_", 4, 16), "KX_1234", "KX_#{4,16}"),
])
def test_a_template_gives_the_canonical_form_and_the_example(template, expected, example, written):
    reference_format = parse_reference_format(template)
    assert reference_format == expected
    assert reference_format.example == example and reference_format.is_canonical(example)
    assert reference_format.template == written and parse_reference_format(written) == expected


@pytest.mark.parametrize(("value", "canonical"), [
    ("LN/123456", True), ("LN/12345", False), ("LN/1234567", False), ("ln/123456", False),
    ("LN-123456", False), ("LN123456", False), (" LN/123456", False), ("LN/１２３４５６", False), ("LN/12345a", False),
])
def test_canonical_means_exactly_as_the_lender_writes_it(value, canonical):
    assert parse_reference_format("LN/######").is_canonical(value) is canonical


@pytest.mark.parametrize(("template", "says"), [
    ("", "not a reference template"),
    ("HCF-", "not a reference template"),
    ("#{4,8}", "not a reference template"),
    ("HCF-####-##", "not a reference template"),
    ("HCF 1234", "not a reference template"),
    (r"HCF-\d{4,8}", "not a reference template"),
    ("HC1-####", "not a reference template"),
    ("HCF–####", "not a reference template"),  # en dash: not a separator a lender writes
    ("H-####", "the prefix 'H' must have 2 to 10 letters"),
    ("ABCDEFGHIJK-####", "must have 2 to 10 letters"),
    ("HCF-###", "at least 4 digits"),
    ("HCF-#{2,8}", "at least 4 digits"),
    ("HCF-#{8,4}", "at least 8 digits but at most 4"),
    ("HCF-#{4,17}", "at most 16 digits"),
])
def test_a_template_that_is_not_a_reference_format_is_refused_saying_why(template, says):
    with pytest.raises(ReferenceFormatError) as raised:
        parse_reference_format(template)
    assert says in str(raised.value)


def test_an_invalid_setting_stops_start_up_naming_the_setting(reference_format, monkeypatch, tmp_path):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    reference_format("HCF-##")
    with pytest.raises(ConfigError, match=r"LOAN_REFERENCE_FORMAT='HCF-##': at least 4 digits"):
        load_settings()
    with pytest.raises(ConfigError, match="LOAN_REFERENCE_FORMAT='HCF-##'"):
        parse_loan_ref("HCF-1001")  # the parsers read the same setting: no silent default


def test_the_operator_command_reports_a_bad_format_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "show-settings"], cwd=tmp_path, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "APP_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(PROJECT_ROOT),
             "LOAN_REFERENCE_FORMAT": "LN/####-##"}, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("ERROR: LOAN_REFERENCE_FORMAT='LN/####-##': not a reference template")
    assert "Traceback" not in result.stderr


# ---- a non-default format in borrowers' messages --------------------------------------------------------


@pytest.mark.parametrize("text", [
    "LN/123456", "ln 123456", "LN123456", "ln-123456", "Ln_123456", "LN–123456", "ＬＮ／１２３４５６",
    "my loan is ln 123456, thanks", "我的LN/123456还欠多少", "LN/123456'; DROP TABLE loans;--",
])
def test_a_configured_format_is_found_however_borrowers_type_it(reference_format, text):
    reference_format("LN/######")
    assert parse_loan_ref(text) == "LN/123456"


@pytest.mark.parametrize("text", [
    "LN/12345",  # too few digits
    "LN/1234567",  # too many
    "XLN123456",  # part of another word
    "HCF-1001",  # the default format is not recognised any more
    "123456",
])
def test_text_without_a_reference_of_the_configured_format_gives_none(reference_format, text):
    reference_format("LN/######")
    assert parse_loan_ref(text) is None


def test_a_format_without_separator_is_written_without_one(reference_format):
    reference_format("ACC#{6,10}")
    assert parse_loan_ref("acc-1234567 please") == "ACC1234567"
    assert parse_loan_ref("ACC 12345") is None


def test_a_configured_reference_is_not_read_as_an_amount_a_date_or_english(reference_format):
    reference_format("LN/########")
    assert parse_amounts("LN/12345678 I can pay 500 a month") == [Decimal("500.00")]
    # 19880412 alone would be read as 12 April 1988
    assert parse_date_of_birth("ln 19880412, born 1990-01-31", date(2026, 11, 28)).value == date(1990, 1, 31)
    assert detect_language("LN/12345678", hint="zh") == "zh"
    assert detect_language("我的ln 12345678还欠多少") == "zh"


formats = st.builds(
    LoanReferenceFormat,
    prefix=st.text(string.ascii_letters, min_size=2, max_size=10),
    separator=st.sampled_from(["", *SEPARATORS]),
    min_digits=st.integers(4, 16),
    max_digits=st.just(16),
)


@settings(max_examples=50, deadline=None)
@given(formats, st.sampled_from(["", " ", "-", "_", " - "]), st.booleans())
def test_the_example_of_any_format_is_understood_as_borrowers_retype_it(lender_format, separator, upper):
    prefix = lender_format.prefix.upper() if upper else lender_format.prefix.lower()
    digits = lender_format.example[len(lender_format.prefix) + len(lender_format.separator):]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOAN_REFERENCE_FORMAT", lender_format.template)
        loan_reference_format.cache_clear()
        try:
            assert parse_reference_format(lender_format.template) == lender_format
            assert parse_loan_ref(f"it is {lender_format.example}") == lender_format.example
            assert parse_loan_ref(f"it is {prefix}{separator}{digits}.") == lender_format.example
        finally:
            loan_reference_format.cache_clear()
