"""`python -m bot.cli payments PATH... [--dry-run]`, `python -m bot.cli reconcile [REF...] [--today DATE]` and
`python -m bot.cli backfill-history [--days N] [--to DATE] [REF...]`.

Exit codes: 0 done (or, with --dry-run, valid), 1 rows rejected and nothing written, 2 usage error.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bot.books.format import PAYMENTS
from bot.books.sources import FORMS, HeaderError, SourceFile, read_rows
from bot.lifecycle.feed import record_payments
from bot.lifecycle.history import backfill
from bot.lifecycle.reconcile import reconcile
from bot.negotiation import load_policy
from bot.storage import Database
from bot.storage.schema import migrate


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def payments_main(argv: list[str], database_url: str, policy_path: Path) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli payments",
                                     description="Record payments, returns and reversals (docs/data-format.md).")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="payments files, .csv or .jsonl (any name)")
    parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    args = parser.parse_args(argv)
    sources = []
    for given in map(Path, args.paths):
        form = FORMS.get(given.suffix.lower())
        if form is None or not given.is_file():
            print(f"ERROR: {given}: not a .csv or .jsonl file", file=sys.stderr)
            return 2
        sources.append(SourceFile(given, PAYMENTS, form))
    migrate(database_url)
    database = Database(database_url)
    status = 0
    try:
        for source in sources:
            rows = ((line, row) for line, row, _raw in read_rows(source))
            try:
                result = record_payments(database, load_policy(policy_path), rows, now=_now(), today=date.today(),
                                         dry_run=args.dry_run, max_rows=None)
            except HeaderError as error:
                print(f"REJECTED {source.name}:1 {error.column}: {error.reason}", file=sys.stderr)
                status = 1
                continue
            for rejection in result.rejections:
                print(f"REJECTED {source.name}:{rejection.row} {rejection.column or '-'}: {rejection.reason}",
                      file=sys.stderr)
            if result.rejections:
                print(f"{source.name}: {len(result.rejections)} rows rejected: nothing recorded from this file")
                status = 1
                continue
            print(f"{source.name}: {result.recorded} recorded, {result.duplicates} already recorded, "
                  f"{result.changed} changed status" + (" (dry run: nothing written)" if args.dry_run else ""))
            for line in (result.reconciliation.lines() if result.reconciliation else []):
                print(line)
    finally:
        database.dispose()
    return status


def reconcile_main(argv: list[str], database_url: str, policy_path: Path) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli reconcile",
                                     description="Judge promises and plans against the payments recorded.")
    parser.add_argument("references", nargs="*", metavar="REF", help="loans (default: every open promise and live plan)")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="business day (default: today)")
    args = parser.parse_args(argv)
    migrate(database_url)
    database = Database(database_url)
    try:
        report = reconcile(database, load_policy(policy_path), today=args.today or date.today(), now=_now(),
                           references=args.references or None)
    finally:
        database.dispose()
    for line in report.lines():
        print(line)
    return 0


def backfill_main(argv: list[str], database_url: str, policy_path: Path) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.cli backfill-history",
        description="Rebuild the daily days-past-due history from the imported books (cure and roll rates).")
    parser.add_argument("references", nargs="*", metavar="REF", help="loans (default: every loan)")
    parser.add_argument("--days", type=int, default=91, help="how many days back, the last one included (91)")
    parser.add_argument("--to", type=date.fromisoformat, default=None, help="the last day (default: yesterday)")
    args = parser.parse_args(argv)
    if args.days < 1:
        print("ERROR: --days is at least 1", file=sys.stderr)
        return 2
    last = args.to or date.today() - timedelta(days=1)  # today is reconciliation's to write
    migrate(database_url)
    database = Database(database_url)
    try:
        report = backfill(database, load_policy(policy_path), last - timedelta(days=args.days - 1), last,
                          references=args.references or None)
    finally:
        database.dispose()
    print(report.line())
    return 0
