"""The audit export: what was offered, agreed, promised, who tried to verify, and every state change.

One CSV file per kind of record, for regulators and internal audit (docs/data-rules.md):

    offers.csv, agreements.csv, promises.csv, verification_attempts.csv, state_changes.csv

Headers are fixed (`HEADERS`), one row per record in time order, times in ISO 8601 UTC
(`2026-11-28T09:30:00Z`), days as `2026-11-28`, money as decimal strings (`1250.00`). No date of
birth is exported (none of these tables holds one). Rows are streamed from the database to the
file, so the export's memory does not grow with the number of rows. Text cells that a spreadsheet
would read as a formula (starting with = + - @, a tab or a carriage return) get a leading
apostrophe. Files are UTF-8 with a byte-order mark, so spreadsheets show Chinese names correctly.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.sql import Select

from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.lifecycle.models import AccountEvent
from bot.storage import Database
from bot.verification.models import VerificationAttempt

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
STREAM_ROWS = 1000


def cell(value: Any) -> str:
    """One CSV cell: ISO time, decimal money, and text that cannot run as a spreadsheet formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"  # the database keeps naive UTC
    if isinstance(value, (date, int, Decimal)):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class Export:
    """One file: its header, the query for a period, and how a row becomes cells."""

    file_name: str
    header: Sequence[str]
    query: Callable[[datetime, datetime, date, date], Select]
    row: Callable[[Any], Sequence[Any]] = tuple


def _agreement_row(row) -> tuple:
    try:
        terms = json.loads(row.terms_json).get("terms", {})
    except (ValueError, AttributeError):
        terms = {}
    money = [Decimal(terms[key]) if terms.get(key) is not None else None for key in ("monthly", "total_paid")]
    return (row.reference, row.accepted_at, row.loan_reference, row.conversation_id, row.offer_record_id,
            row.borrower_name, row.language, row.policy_version, money[0], terms.get("months"), money[1],
            terms.get("first_payment"), ",".join(terms.get("concessions") or []), row.acceptance_text)


EXPORTS = (
    Export("offers.csv",
           ("id", "shown_at", "loan_reference", "conversation_id", "concessions", "monthly", "months", "total_paid",
            "authority", "rule", "policy_version", "status"),
           lambda start, end, first, last: select(
               OfferRecord.id, OfferRecord.shown_at, OfferRecord.loan_reference, OfferRecord.conversation_id,
               OfferRecord.concessions, OfferRecord.monthly, OfferRecord.months, OfferRecord.total_paid,
               OfferRecord.authority, OfferRecord.rule, OfferRecord.policy_version, OfferRecord.status)
           .where(OfferRecord.shown_at >= start, OfferRecord.shown_at < end)
           .order_by(OfferRecord.shown_at, OfferRecord.id)),
    Export("agreements.csv",
           ("reference", "accepted_at", "loan_reference", "conversation_id", "offer_id", "borrower_name",
            "language", "policy_version", "monthly", "months", "total_paid", "first_payment", "concessions",
            "acceptance_text"),
           lambda start, end, first, last: select(
               Agreement.reference, Agreement.accepted_at, Agreement.loan_reference, Agreement.conversation_id,
               Agreement.offer_record_id, Agreement.borrower_name, Agreement.language, Agreement.policy_version,
               Agreement.terms_json, Agreement.acceptance_text)
           .where(Agreement.accepted_at >= start, Agreement.accepted_at < end)
           .order_by(Agreement.accepted_at, Agreement.id),
           _agreement_row),
    Export("promises.csv",
           ("id", "recorded_at", "loan_reference", "conversation_id", "amount", "due_on", "status", "paid",
            "settled_at"),
           lambda start, end, first, last: select(
               PromiseToPay.id, PromiseToPay.recorded_at, PromiseToPay.loan_reference, PromiseToPay.conversation_id,
               PromiseToPay.amount, PromiseToPay.due_on, PromiseToPay.status, PromiseToPay.paid,
               PromiseToPay.settled_at)
           .where(PromiseToPay.recorded_at >= start, PromiseToPay.recorded_at < end)
           .order_by(PromiseToPay.recorded_at, PromiseToPay.id)),
    Export("verification_attempts.csv",
           ("id", "attempted_at", "loan_reference", "conversation_id", "channel", "outcome", "reason", "succeeded"),
           lambda start, end, first, last: select(
               VerificationAttempt.id, VerificationAttempt.attempted_at, VerificationAttempt.loan_reference,
               VerificationAttempt.conversation_id, VerificationAttempt.channel, VerificationAttempt.outcome,
               VerificationAttempt.reason, VerificationAttempt.succeeded)
           .where(VerificationAttempt.attempted_at >= start, VerificationAttempt.attempted_at < end)
           .order_by(VerificationAttempt.attempted_at, VerificationAttempt.id)),
    # State changes belong to the business day they happened on (occurred_on).
    Export("state_changes.csv",
           ("id", "occurred_on", "recorded_at", "loan_reference", "subject", "subject_id", "from_state", "to_state",
            "cause", "cause_ref", "detail"),
           lambda start, end, first, last: select(
               AccountEvent.id, AccountEvent.occurred_on, AccountEvent.recorded_at, AccountEvent.loan_reference,
               AccountEvent.subject, AccountEvent.subject_id, AccountEvent.from_state, AccountEvent.to_state,
               AccountEvent.cause, AccountEvent.cause_ref, AccountEvent.detail)
           .where(AccountEvent.occurred_on >= first, AccountEvent.occurred_on <= last)
           .order_by(AccountEvent.occurred_on, AccountEvent.recorded_at, AccountEvent.id)),
)
HEADERS = {export.file_name: tuple(export.header) for export in EXPORTS}


def write_audit(database: Database, first: date, last: date, directory: Path) -> dict[Path, int]:
    """Write the five files for the days `first`..`last` (inclusive) into `directory`; rows per file."""
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    start = datetime.combine(first, datetime.min.time())
    end = datetime.combine(last + timedelta(days=1), datetime.min.time())
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[Path, int] = {}
    with database.engine.connect() as connection:
        streaming = connection.execution_options(stream_results=True)
        for export in EXPORTS:
            path = directory / export.file_name
            rows = 0
            with path.open("w", newline="", encoding="utf-8-sig") as file:
                writer = csv.writer(file)
                writer.writerow(export.header)
                result = streaming.execute(export.query(start, end, first, last))
                for partition in result.partitions(STREAM_ROWS):
                    writer.writerows([cell(value) for value in export.row(row)] for row in partition)
                    rows += len(partition)
            written[path] = rows
    return written
