"""Write loans from the database in the import format (docs/data-format.md): the demo data as sample files."""
from __future__ import annotations

import csv
import json
import re
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.models import Borrower, Charge, Loan, Payment, PaymentStatus, ScheduledInstalment
from bot.books.format import CURRENCY_MINOR_UNITS, RECORD_TYPES
from bot.demo.seed import seed_demo_data
from bot.storage import Database
from bot.storage.schema import metadata

DEMO_TIME_ZONE = "Asia/Shanghai"
STATUS_WORDS = {PaymentStatus.SUCCEEDED: "credited", PaymentStatus.RETURNED: "returned",
                PaymentStatus.FAILED: "failed"}


def _amount(value: Decimal, currency: str) -> str:
    return str(value.quantize(Decimal(1).scaleb(-CURRENCY_MINOR_UNITS[currency])))


def _digits(reference: str) -> str:
    return re.sub(r"\D", "", reference)


def book_rows(session: Session, references: Sequence[str], time_zone: str = DEMO_TIME_ZONE) -> dict[str, list[dict]]:
    """The rows of each record type for these loans. Rows without a lender key get one made from the
    loan reference (borrower CUST-1001, payment PAY-1001-01, charge CHG-1001-1)."""
    rows: dict[str, list[dict]] = {record_type.name: [] for record_type in RECORD_TYPES}
    for reference in references:
        loan = session.execute(select(Loan).where(Loan.reference == reference)).scalar_one()
        borrower = session.get(Borrower, loan.borrower_id)
        digits, currency = _digits(reference), loan.currency
        borrower_key = borrower.external_id or f"CUST-{digits}"
        rows["borrowers"].append({
            "borrower_id": borrower_key, "full_name": borrower.full_name,
            "date_of_birth": borrower.date_of_birth.isoformat(), "language": borrower.preferred_language,
            "time_zone": borrower.time_zone or time_zone})
        rows["loans"].append({
            "loan_reference": reference, "borrower_id": borrower_key, "currency": currency,
            "principal": _amount(loan.principal, currency), "annual_rate": str(loan.annual_rate.normalize()),
            "contractual_instalment": _amount(loan.contractual_instalment, currency),
            "start_date": loan.start_date.isoformat()})
        numbers = {}
        for row in session.execute(select(ScheduledInstalment).where(ScheduledInstalment.loan_id == loan.id)
                                   .order_by(ScheduledInstalment.number)).scalars():
            numbers[row.id] = row.number
            rows["schedule"].append({
                "loan_reference": reference, "instalment_number": str(row.number),
                "due_date": row.due_date.isoformat(), "amount": _amount(row.amount, currency),
                "principal": _amount(row.principal, currency), "interest": _amount(row.interest, currency)})
        payments = session.execute(select(Payment).where(Payment.loan_id == loan.id).order_by(Payment.id)).scalars()
        for index, payment in enumerate(payments, start=1):
            rows["payments"].append({
                "payment_id": payment.external_id or f"PAY-{digits}-{index:02d}", "loan_reference": reference,
                "amount": _amount(payment.amount, currency), "paid_on": payment.paid_on.isoformat(),
                "status": STATUS_WORDS[payment.status],
                "instalment_number": str(numbers[payment.instalment_id]) if payment.instalment_id else "",
                "note": payment.note or ""})
        charges = session.execute(select(Charge).where(Charge.loan_id == loan.id).order_by(Charge.id)).scalars()
        for index, charge in enumerate(charges, start=1):
            rows["charges"].append({
                "charge_id": charge.external_id or f"CHG-{digits}-{index}", "loan_reference": reference,
                "kind": charge.kind.value, "amount": _amount(charge.amount, currency),
                "charged_on": charge.charged_on.isoformat(), "waived": "true" if charge.waived else "false"})
    return rows


def write_files(rows: dict[str, list[dict]], directory: Path, form: str = "csv") -> list[Path]:
    """One file per record type, `<type>.csv` (header row) or `<type>.jsonl` (one object a line)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for record_type in RECORD_TYPES:
        path = directory / f"{record_type.name}.{form}"
        write_records(path, record_type.columns, rows[record_type.name], form)
        written.append(path)
    return written


def write_records(path: Path, columns: Sequence[str], records: Iterable[dict], form: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        if form == "csv":
            writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
        else:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def export_demo(directory: Path, today: date, form: str = "csv") -> list[Path]:
    """The four demo borrowers as of `today` (bot/demo/seed.py), written as import files."""
    with tempfile.TemporaryDirectory() as scratch:
        database = Database(f"sqlite:///{Path(scratch) / 'demo.db'}")
        try:
            metadata.create_all(database.engine)
            with database.unit_of_work() as session:
                references = seed_demo_data(session, today)
            with database.unit_of_work() as session:
                rows = book_rows(session, references)
        finally:
            database.dispose()
    return write_files(rows, directory, form)
