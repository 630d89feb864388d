"""Import a lender's books: validate every row, upsert by the lender's keys in batches, never half an import.

Files are streamed row by row. Validation keeps only keys, per loan a few facts, and the lines it rejected.
By default rows are written as they are validated, inside one transaction that is rolled back if any row is
rejected (one pass). With `skip_invalid` the files are validated in full first, then read again and the
accepted rows written, each batch committing on its own (two passes: a batch is only committed once every
check, the schedule totals included, has passed). A dry run validates only.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable, TextIO

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.accounts.models import Borrower, Charge, Loan, Payment, ScheduledInstalment
from bot.books.format import READERS, CellError, text
from bot.books.sources import HeaderError, SourceFile, read_rows
from bot.storage import Database

BATCH_SIZE = 1000
SHOWN_REJECTIONS = 20


@dataclass(frozen=True)
class Rejection:
    file: str
    line: int
    column: str
    reason: str
    raw: str


@dataclass
class FileCount:
    file: str
    rows: int = 0
    rejected: int = 0
    written: int = 0


@dataclass
class ImportReport:
    files: list[FileCount]
    rejections: list[Rejection] = field(default_factory=list)  # the first few, for the screen
    rejected: int = 0
    wrote: bool = False

    def lines(self) -> list[str]:
        return [f"{count.file}: {count.rows} rows, {count.rejected} rejected, {count.written} written"
                for count in self.files]


@dataclass(slots=True)
class LoanFacts:
    """What validating other rows needs to know about one loan (from the loans file or the database)."""

    currency: str
    principal: Decimal
    line: int                 # its row in the loans file; 0 when it is only in the database
    numbers: int = 0          # bitmask of instalment numbers that exist (database, then accepted schedule)
    file_numbers: int = 0     # bitmask of instalment numbers seen in the schedule file
    schedule_total: Decimal = Decimal("0.00")
    first_line: int = 0
    last_line: int = 0


REJECTS_HEADER = ("file", "line", "column", "reason", "raw")


class BooksImport:
    """One import of a set of files into one database."""

    def __init__(self, database: Database, sources: list[SourceFile], rejects: TextIO | None = None,
                 batch_size: int = BATCH_SIZE) -> None:
        self.database = database
        self.sources = sources
        self.batch_size = batch_size
        self.report = ImportReport([FileCount(source.name) for source in sources])
        self._rejects = csv.writer(rejects) if rejects is not None else None
        if self._rejects is not None:
            self._rejects.writerow(REJECTS_HEADER)
        self._rejected_lines: dict[str, set[int]] = {source.name: set() for source in sources}
        self._skipped_files: set[str] = set()
        self.borrowers: dict[str, int] = {}   # borrower_id -> line (0: in the database)
        self.loans: dict[str, LoanFacts] = {}
        self.rejected_loans: set[str] = set()
        self.bad_schedules: set[str] = set()
        self.keys: dict[str, dict[str, int]] = {"payments": {}, "charges": {}}

    # ---- validation -------------------------------------------------------------------------------------

    def validate(self, conn: Connection | None = None) -> ImportReport:
        """Check every row; with `conn`, also write the accepted rows while no row has been rejected."""
        self._load_known()
        for source, count in zip(self.sources, self.report.files):
            kind = source.record_type.name
            batch: list[dict] = []
            try:
                for line, row, raw in read_rows(source):
                    count.rows += 1
                    try:
                        if isinstance(row, CellError):
                            raise row
                        record = self._check(kind, line, row)
                    except CellError as error:
                        self._reject(source, count, line, error.column, error.reason, raw())
                        continue
                    if conn is not None and not self.report.rejected:
                        batch.append(record)
                        if len(batch) >= self.batch_size:
                            count.written += self._flush(conn, kind, batch, False)
                            batch = []
            except HeaderError as error:
                self._skipped_files.add(source.name)
                self._reject(source, count, 1, error.column, error.reason, "")
            if kind == "schedule":
                self._check_schedule_totals(source, count)
            if conn is not None and batch and not self.report.rejected:
                count.written += self._flush(conn, kind, batch, False)
        return self.report

    def _load_known(self) -> None:
        with self.database.engine.connect() as conn:
            for (key,) in conn.execute(select(Borrower.external_id).where(Borrower.external_id.is_not(None))):
                self.borrowers[key] = 0
            for reference, currency, principal in conn.execute(
                    select(Loan.reference, Loan.currency, Loan.principal)):
                self.loans[reference] = LoanFacts(currency, principal, 0)
            for reference, number in conn.execute(
                    select(Loan.reference, ScheduledInstalment.number).join(ScheduledInstalment)):
                self.loans[reference].numbers |= 1 << number

    def _reject(self, source: SourceFile, count: FileCount, line: int, column: str, reason: str, raw: str) -> None:
        rejection = Rejection(source.name, line, column, reason, raw)
        count.rejected += 1
        self.report.rejected += 1
        self._rejected_lines[source.name].add(line)
        if len(self.report.rejections) < SHOWN_REJECTIONS:
            self.report.rejections.append(rejection)
        if self._rejects is not None:
            self._rejects.writerow((rejection.file, line, column, reason, raw))

    def _loan(self, row) -> tuple[str, LoanFacts]:
        reference = text(row, "loan_reference", 32)
        facts = self.loans.get(reference)
        if facts is None:
            why = "its loans row was rejected" if reference in self.rejected_loans else \
                "not in the loans file nor the database"
            raise CellError("loan_reference", f"unknown loan {reference} ({why})")
        return reference, facts

    def _check(self, kind: str, line: int, row) -> dict:
        """The row read into a record for writing, once it passes every check; else a `CellError`."""
        if kind == "borrowers":
            record = READERS[kind](row)
            self._unique(self.borrowers, record["external_id"], "borrower_id", line)
            self.borrowers[record["external_id"]] = line
        elif kind == "loans":
            try:
                record = READERS[kind](row)
                if record["borrower"] not in self.borrowers:
                    raise CellError("borrower_id", f"unknown borrower {record['borrower']} "
                                                   "(not in the borrowers file nor the database)")
                known = self.loans.get(record["reference"])
                if known is not None and known.line:
                    raise CellError("loan_reference", f"duplicate loan_reference {record['reference']} "
                                                      f"(first on line {known.line})")
            except CellError:
                reference = (row.get("loan_reference") or "").strip()
                if reference not in self.loans:
                    self.rejected_loans.add(reference)
                raise
            self.loans[record["reference"]] = LoanFacts(
                record["currency"], record["principal"], line, numbers=known.numbers if known else 0)
        elif kind == "schedule":
            reference, facts = self._loan(row)
            record = READERS[kind](row, facts.currency)
            bit = 1 << record["number"]
            if facts.file_numbers & bit:
                raise CellError("instalment_number", f"duplicate instalment {record['number']} of {reference}")
            facts.file_numbers |= bit
            facts.schedule_total += record["principal"]
            facts.first_line = facts.first_line or line
            facts.last_line = line
            record["reference"] = reference
        else:  # payments, charges
            reference, facts = self._loan(row)
            record = READERS[kind](row, facts.currency)
            key_column = "payment_id" if kind == "payments" else "charge_id"
            self._unique(self.keys[kind], record["external_id"], key_column, line)
            if record.get("number") is not None and not facts.numbers & (1 << record["number"]):
                raise CellError("instalment_number", f"{reference} has no instalment {record['number']}")
            self.keys[kind][record["external_id"]] = line
            record["reference"] = reference
        return record

    @staticmethod
    def _unique(seen: dict[str, int], key: str, column: str, line: int) -> None:
        if seen.get(key):
            raise CellError(column, f"duplicate {column} {key} (first on line {seen[key]})")

    def _check_schedule_totals(self, source: SourceFile, count: FileCount) -> None:
        """Each loan's schedule in the file must carry its whole principal, exact to the minor unit."""
        for reference, facts in self.loans.items():
            if not facts.file_numbers:
                continue
            if facts.schedule_total != facts.principal:
                self.bad_schedules.add(reference)
                self._reject(source, count, facts.first_line, "principal",
                             f"the principal parts of {reference}'s schedule (lines {facts.first_line}-"
                             f"{facts.last_line}) sum to {facts.schedule_total}, the loan's principal is "
                             f"{facts.principal}: none of its rows is imported", "")
            else:
                facts.numbers |= facts.file_numbers

    # ---- writing ----------------------------------------------------------------------------------------

    def write(self, *, per_batch_commit: bool) -> ImportReport:
        with self.database.engine.connect() as conn:
            for source, count in zip(self.sources, self.report.files):
                if source.name in self._skipped_files:
                    continue
                kind = source.record_type.name
                rejected = self._rejected_lines[source.name]
                batch: list[dict] = []
                for line, row, _raw in read_rows(source):
                    if line in rejected:
                        continue
                    if kind in ("schedule", "payments", "charges"):
                        reference = row["loan_reference"].strip()
                        if kind == "schedule" and reference in self.bad_schedules:
                            continue
                        record = READERS[kind](row, self.loans[reference].currency)
                        record["reference"] = reference
                    else:
                        record = READERS[kind](row)
                    batch.append(record)
                    if len(batch) >= self.batch_size:
                        count.written += self._flush(conn, kind, batch, per_batch_commit)
                        batch = []
                if batch:
                    count.written += self._flush(conn, kind, batch, per_batch_commit)
            conn.commit()
        self.report.wrote = True
        return self.report

    def _flush(self, conn: Connection, kind: str, batch: list[dict], commit: bool) -> int:
        WRITERS[kind](conn, batch)
        if commit:
            conn.commit()
        return len(batch)


def _upsert(conn: Connection, table, rows: list[dict], keys: list[str], fixed: tuple[str, ...] = ()) -> None:
    """Insert `rows`, or update the row with the same `keys` (columns in `fixed` are only set on insert)."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    updated = {name: insert.excluded[name] for name in rows[0] if name not in keys and name not in fixed}
    statement = insert.on_conflict_do_update(index_elements=keys, set_=updated)
    if conn.dialect.name == "postgresql":
        _pg_values_upsert(conn, statement, rows)
    else:
        conn.execute(statement, rows)


def _pg_values_upsert(conn: Connection, statement, rows: list[dict]) -> None:
    """The batch as one multi-row INSERT ... VALUES (...), (...) ON CONFLICT DO UPDATE, through psycopg2's
    `execute_values`. SQLAlchemy sends an ON CONFLICT DO UPDATE executemany one statement per row (its
    VALUES-list fast path refuses it, as a batch could name one key twice; validation rules that out here):
    100,000 loans then took over 40 minutes, most of it the server planning 2.9 million statements."""
    from psycopg2.extras import execute_values

    names = list(rows[0])
    compiled = statement.inline().compile(dialect=conn.dialect, column_keys=names)  # inline: no RETURNING
    named = f"({compiled.insert_single_values_expr})"
    order = re.findall(r"%\((\w+)\)s", named)
    sql = str(compiled).replace(named, "%s", 1)
    processors = [compiled._bind_processors.get(name) for name in order]
    params = [tuple(value if process is None else process(value)
                    for process, value in zip(processors, map(row.__getitem__, order))) for row in rows]
    with conn.connection.cursor() as cursor:  # the DBAPI connection: the same transaction
        execute_values(cursor, sql, params, template="(" + ", ".join(["%s"] * len(order)) + ")",
                       page_size=len(params))


def _ids(conn: Connection, key_column, keys: set[str]) -> dict[str, int]:
    table = key_column.table
    return dict(conn.execute(select(key_column, table.c.id).where(key_column.in_(keys))).all())


def _write_borrowers(conn: Connection, batch: list[dict]) -> None:
    _upsert(conn, Borrower.__table__, batch, ["external_id"])


def _write_loans(conn: Connection, batch: list[dict]) -> None:
    borrower_ids = _ids(conn, Borrower.__table__.c.external_id, {r["borrower"] for r in batch})
    rows = [{**{k: v for k, v in r.items() if k != "borrower"}, "borrower_id": borrower_ids[r["borrower"]]}
            for r in batch]
    _upsert(conn, Loan.__table__, rows, ["reference"])


def _with_loan_ids(conn: Connection, batch: list[dict]) -> tuple[list[dict], dict[str, int]]:
    loan_ids = _ids(conn, Loan.__table__.c.reference, {r["reference"] for r in batch})
    return [{**{k: v for k, v in r.items() if k != "reference"}, "loan_id": loan_ids[r["reference"]]}
            for r in batch], loan_ids


def _write_schedule(conn: Connection, batch: list[dict]) -> None:
    rows, _ = _with_loan_ids(conn, batch)
    _upsert(conn, ScheduledInstalment.__table__, rows, ["loan_id", "number"])


def _write_payments(conn: Connection, batch: list[dict]) -> None:
    rows, _ = _with_loan_ids(conn, batch)
    wanted = {(r["loan_id"], r["number"]) for r in rows if r["number"] is not None}
    table = ScheduledInstalment.__table__
    # By loan_id alone: the (loan_id, number) index serves it, where a row-value IN scans the table.
    instalments = {} if not wanted else {
        (loan_id, number): id_ for loan_id, number, id_ in conn.execute(
            select(table.c.loan_id, table.c.number, table.c.id).where(
                table.c.loan_id.in_({loan_id for loan_id, _ in wanted})))}
    for row in rows:
        number = row.pop("number")
        row["instalment_id"] = None if number is None else instalments[(row["loan_id"], number)]
        row["source"] = "import"
    _upsert(conn, Payment.__table__, rows, ["external_id"])


def _write_charges(conn: Connection, batch: list[dict]) -> None:
    rows, _ = _with_loan_ids(conn, batch)
    _upsert(conn, Charge.__table__, rows, ["external_id"])


WRITERS: dict[str, Callable[[Connection, list[dict]], None]] = {
    "borrowers": _write_borrowers, "loans": _write_loans, "schedule": _write_schedule,
    "payments": _write_payments, "charges": _write_charges,
}


def import_books(database: Database, sources: list[SourceFile], *, dry_run: bool = False,
                 skip_invalid: bool = False, rejects_path: Path | None = None,
                 batch_size: int = BATCH_SIZE) -> ImportReport:
    """Validate `sources`, then (unless `dry_run`, or rows were rejected without `skip_invalid`) write them."""
    handle = rejects_path.open("w", newline="", encoding="utf-8") if rejects_path is not None else None
    try:
        books = BooksImport(database, sources, handle, batch_size)
        if dry_run:
            return books.validate()
        if skip_invalid:
            books.validate()
            return books.write(per_batch_commit=True)
        with database.engine.connect() as conn:
            report = books.validate(conn)
            if report.rejected:
                conn.rollback()
                for count in report.files:
                    count.written = 0
            else:
                conn.commit()
                report.wrote = True
        return report
    finally:
        if handle is not None:
            handle.close()
