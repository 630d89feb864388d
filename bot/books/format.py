"""The file format of a lender's books (docs/data-format.md): record types, columns, and how one row is read.

Pure but for one setting: a row (column -> text) goes in, a typed record or a `CellError` naming the
column comes out; loan references are checked against the configured LOAN_REFERENCE_FORMAT.
Checks that need other rows (keys, references, schedule totals) live in `bot.books.importer`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.accounts.models import MAX_INSTALMENTS, PAYMENT_STATUS_WORDS, ChargeKind
from bot.config import loan_reference_format

# ISO 4217 codes accepted, with their minor units. The money columns keep two places, so no code with three.
CURRENCY_MINOR_UNITS = {"CNY": 2, "USD": 2, "EUR": 2, "GBP": 2, "HKD": 2, "SGD": 2, "JPY": 0}
LANGUAGES = ("en", "zh")
KEY_LENGTH = 64
RATE_PLACES = 6

Row = Mapping[str, str]


class CellError(ValueError):
    """One cell that cannot be read: the column and the reason, in words for the lender."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


def text(row: Row, column: str, max_length: int = KEY_LENGTH) -> str:
    value = row.get(column)
    if value:
        value = value.strip()
    if not value:
        raise CellError(column, "missing value")
    if len(value) > max_length:
        raise CellError(column, f"longer than {max_length} characters")
    return value


def optional_text(row: Row, column: str, max_length: int) -> str | None:
    return text(row, column, max_length) if (row.get(column) or "").strip() else None


def iso_date(row: Row, column: str) -> date:
    value = text(row, column)
    if len(value) != 10:
        raise CellError(column, f"{value!r} is not an ISO date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CellError(column, f"{value!r} is not a date that exists") from None


_PLAIN_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]*))?")


def decimal(row: Row, column: str, places: int, *, positive: bool = False) -> Decimal:
    """An exact decimal with at most `places` decimals, never negative (and above zero when `positive`).

    Written out as plain digits ("1250.00", "0.18"); money comes back with two places, as the columns keep it.
    """
    value = text(row, column)
    match = _PLAIN_DECIMAL.fullmatch(value)
    if match is None:
        raise CellError(column, f"{value!r} is not a plain decimal number")
    sign, whole, fraction = match.groups(default="")
    if sign:
        raise CellError(column, f"{value} is negative")
    if len(fraction) > places:
        raise CellError(column, f"{value} has more than {places} decimal places")
    amount = Decimal(f"{whole}.{fraction.ljust(2, '0')}" if places <= 2 else value)
    if positive and not amount:
        raise CellError(column, "must be above zero")
    return amount


def money(row: Row, column: str, currency: str, *, positive: bool = False) -> Decimal:
    """An amount exact to the currency's minor unit ("12.345" is refused for CNY, "12.5" for JPY)."""
    return decimal(row, column, CURRENCY_MINOR_UNITS[currency], positive=positive)


def integer(row: Row, column: str, low: int, high: int) -> int:
    value = text(row, column)
    if not value.isdigit() or not low <= int(value) <= high:
        raise CellError(column, f"{value!r} is not a whole number from {low} to {high}")
    return int(value)


def currency_code(row: Row, column: str) -> str:
    value = text(row, column)
    if value not in CURRENCY_MINOR_UNITS:
        raise CellError(column, f"unknown currency {value!r} (accepted: {', '.join(CURRENCY_MINOR_UNITS)})")
    return value


def time_zone(row: Row, column: str) -> str:
    value = text(row, column)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise CellError(column, f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None
    return value


def choice(row: Row, column: str, choices: Mapping[str, object] | tuple[str, ...]):
    value = text(row, column)
    if value not in choices:
        raise CellError(column, f"{value!r} is not one of {', '.join(choices)}")
    return choices[value] if isinstance(choices, Mapping) else value


def flag(row: Row, column: str) -> bool:
    value = (row.get(column) or "false").strip().lower()
    if value not in ("true", "false"):
        raise CellError(column, f"{value!r} is not true or false")
    return value == "true"


@dataclass(frozen=True)
class RecordType:
    """One kind of file: its name (the file's stem), its key columns and the columns it reads."""

    name: str
    key: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


BORROWERS = RecordType("borrowers", ("borrower_id",),
                       ("borrower_id", "full_name", "date_of_birth", "language", "time_zone"), ("jurisdiction",))
LOANS = RecordType("loans", ("loan_reference",),
                   ("loan_reference", "borrower_id", "currency", "principal", "annual_rate",
                    "contractual_instalment", "start_date"))
SCHEDULE = RecordType("schedule", ("loan_reference", "instalment_number"),
                      ("loan_reference", "instalment_number", "due_date", "amount", "principal", "interest"))
PAYMENTS = RecordType("payments", ("payment_id",),
                      ("payment_id", "loan_reference", "amount", "paid_on", "status"), ("instalment_number", "note"))
CHARGES = RecordType("charges", ("charge_id",),
                     ("charge_id", "loan_reference", "kind", "amount", "charged_on"), ("waived",))

# In the order files are processed: each refers only to the ones before it.
RECORD_TYPES = (BORROWERS, LOANS, SCHEDULE, PAYMENTS, CHARGES)
BY_NAME = {record_type.name: record_type for record_type in RECORD_TYPES}


def read_borrower(row: Row) -> dict:
    return {"external_id": text(row, "borrower_id"), "full_name": text(row, "full_name", 200),
            "date_of_birth": iso_date(row, "date_of_birth"), "preferred_language": choice(row, "language", LANGUAGES),
            "time_zone": time_zone(row, "time_zone"), "jurisdiction": jurisdiction(row, "jurisdiction")}


def jurisdiction(row: Row, column: str) -> str | None:
    """Whose contact rules apply (a key of policy.yml `outreach.jurisdictions`); empty: the default."""
    value = (row.get(column) or "").strip()
    if not value:
        return None
    if not re.fullmatch(r"[A-Z]{2,8}", value):
        raise CellError(column, f"{value!r} is not a jurisdiction code like CN, US or UK")
    return value


def read_loan(row: Row) -> dict:
    currency = currency_code(row, "currency")
    rate = decimal(row, "annual_rate", RATE_PLACES)
    if rate >= 1:
        raise CellError("annual_rate", f"{rate} is not an annual fraction below 1 (0.18 for 18%)")
    return {"reference": loan_reference(row), "borrower": text(row, "borrower_id"), "currency": currency,
            "principal": money(row, "principal", currency, positive=True), "annual_rate": rate,
            "contractual_instalment": money(row, "contractual_instalment", currency, positive=True),
            "start_date": iso_date(row, "start_date")}


def loan_reference(row: Row) -> str:
    """The loan's reference, exactly as the configured LOAN_REFERENCE_FORMAT writes it (canonical)."""
    value = text(row, "loan_reference", 32)
    reference_format = loan_reference_format()
    if not reference_format.is_canonical(value):
        raise CellError("loan_reference", f"{value!r} is not a loan reference like {reference_format.example} "
                                          f"(LOAN_REFERENCE_FORMAT {reference_format.template})")
    return value


def read_schedule(row: Row, currency: str) -> dict:
    record = {"number": integer(row, "instalment_number", 1, MAX_INSTALMENTS), "due_date": iso_date(row, "due_date"),
              "amount": money(row, "amount", currency, positive=True),
              "principal": money(row, "principal", currency), "interest": money(row, "interest", currency)}
    if record["principal"] + record["interest"] != record["amount"]:
        raise CellError("amount", f"{record['amount']} is not principal {record['principal']} "
                                  f"+ interest {record['interest']}")
    return record


def read_payment(row: Row, currency: str) -> dict:
    number = row.get("instalment_number") or ""
    return {"external_id": text(row, "payment_id"), "amount": money(row, "amount", currency, positive=True),
            "paid_on": iso_date(row, "paid_on"), "status": choice(row, "status", PAYMENT_STATUS_WORDS),
            "number": integer(row, "instalment_number", 1, MAX_INSTALMENTS) if number.strip() else None,
            "note": optional_text(row, "note", 200)}


def read_charge(row: Row, currency: str) -> dict:
    kinds = {kind.value: kind for kind in ChargeKind}
    return {"external_id": text(row, "charge_id"), "kind": choice(row, "kind", kinds),
            "amount": money(row, "amount", currency, positive=True), "charged_on": iso_date(row, "charged_on"),
            "waived": flag(row, "waived")}


READERS: dict[str, Callable] = {"borrowers": read_borrower, "loans": read_loan, "schedule": read_schedule,
                                "payments": read_payment, "charges": read_charge}
