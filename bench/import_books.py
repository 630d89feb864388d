"""Import benchmark: `python -m bench.import_books --loans 100000` (make bench-import).

Writes a synthetic lender's books (N borrowers and loans, 24 instalments each, the first 3 paid, one in a
hundred of those returned, a late fee on one loan in ten) as CSV into a temporary directory, imports them
into a fresh SQLite database, then imports them again (the idempotent re-run), and prints the elapsed
times and the peak resident memory of this process (getrusage ru_maxrss).
"""
from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from bot.books.format import RECORD_TYPES
from bot.books.importer import import_books
from bot.books.sources import source_files
from bot.demo.seed import add_months
from bot.storage import Database
from bot.storage.schema import migrate

INSTALMENTS = 24
PAID = 3
START = date(2025, 1, 15)


def write_books(directory: Path, loans: int) -> None:
    """The synthetic files, streamed to disk (nothing is held per loan)."""
    handles = {r.name: (directory / f"{r.name}.csv").open("w", newline="", encoding="utf-8") for r in RECORD_TYPES}
    writers = {}
    for record_type in RECORD_TYPES:
        writers[record_type.name] = csv.writer(handles[record_type.name], lineterminator="\n")
        writers[record_type.name].writerow(record_type.columns)
    principal_part, interest = Decimal("1000.00"), Decimal("150.00")
    for index in range(loans):
        reference, borrower = f"HCF-{100000 + index}", f"B{index:07d}"
        language, zone = ("zh", "Asia/Shanghai") if index % 2 else ("en", "Asia/Hong_Kong")
        writers["borrowers"].writerow([borrower, f"Borrower {index}", f"19{60 + index % 40}-0{1 + index % 9}-15",
                                       language, zone])
        writers["loans"].writerow([reference, borrower, "CNY", principal_part * INSTALMENTS, "0.18",
                                   principal_part + interest, START.isoformat()])
        for number in range(1, INSTALMENTS + 1):
            due = add_months(START, number).isoformat()
            writers["schedule"].writerow([reference, number, due, principal_part + interest, principal_part,
                                          interest])
            if number <= PAID:
                status = "returned" if number == PAID and index % 100 == 0 else "credited"
                writers["payments"].writerow([f"P{index:07d}-{number}", reference, principal_part + interest, due,
                                              status, number, ""])
        if index % 10 == 0:
            writers["charges"].writerow([f"C{index:07d}", reference, "late_fee", "50.00",
                                         add_months(START, PAID + 1).isoformat(), "false"])
    for handle in handles.values():
        handle.close()


def timed_import(database: Database, directory: Path) -> tuple[float, int]:
    started = time.perf_counter()
    report = import_books(database, source_files(sorted(directory.glob("*.csv"))))
    if report.rejected:
        raise SystemExit(f"unexpected rejections: {report.rejections[:3]}")
    return time.perf_counter() - started, sum(count.written for count in report.files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--database-url", default=None,
                        help="an EMPTY database to import into (e.g. PostgreSQL); default a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        started = time.perf_counter()
        write_books(directory, args.loans)
        size = sum(path.stat().st_size for path in directory.glob("*.csv"))
        print(f"generated {args.loans} loans ({size / 1e6:.0f} MB of CSV) in {time.perf_counter() - started:.1f} s")
        url = args.database_url or f"sqlite:///{directory / 'books.db'}"
        print(f"database: {url.split('://')[0]}")
        migrate(url)
        database = Database(url)
        try:
            elapsed, rows = timed_import(database, directory)
            print(f"first import: {rows} rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)")
            elapsed, rows = timed_import(database, directory)
            print(f"second import (same files, nothing changes): {rows} rows in {elapsed:.1f} s")
        finally:
            database.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
