"""Language helpers: which language a borrower writes, and the amounts,
dates, loan references and hardship causes in what they write, in English
and Simplified Chinese; plus formatting money and dates back for them."""
from bot.language.answers import asks_for_details, parse_option, parse_yes_no
from bot.language.amounts import parse_amount, parse_amounts, parse_duration_months
from bot.language.causes import HardshipCause, classify_cause, is_temporary
from bot.language.dates import DateParse, parse_date_of_birth, parse_future_date
from bot.language.detect import Language, detect_language
from bot.language.finances import Label, LabelledAmounts, label_amounts
from bot.language.formatting import format_date, format_money
from bot.language.references import parse_loan_ref

__all__ = [
    "asks_for_details",
    "DateParse",
    "HardshipCause",
    "Label",
    "LabelledAmounts",
    "Language",
    "classify_cause",
    "detect_language",
    "format_date",
    "format_money",
    "is_temporary",
    "label_amounts",
    "parse_amount",
    "parse_amounts",
    "parse_date_of_birth",
    "parse_duration_months",
    "parse_future_date",
    "parse_loan_ref",
    "parse_option",
    "parse_yes_no",
]
