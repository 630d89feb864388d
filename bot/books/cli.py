"""`python -m bot.cli import PATH... [--dry-run] [--skip-invalid] [--rejects FILE]` and
`python -m bot.cli export-demo DIR [--today YYYY-MM-DD] [--format csv|jsonl]`.

Exit codes of import: 0 imported (or, with --dry-run, valid; with --skip-invalid, the good rows imported),
1 rows rejected and nothing written, 2 usage error.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from bot.books.export import export_demo
from bot.books.importer import import_books
from bot.books.sources import UsageError, source_files
from bot.storage import Database
from bot.storage.schema import migrate

DEFAULT_REJECTS = Path("import-rejects.csv")


def import_main(argv: list[str], database_url: str) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli import",
                                     description="Load a lender's books (docs/data-format.md).")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="borrowers|loans|schedule|payments|charges "
                                                                 ".csv or .jsonl")
    parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    parser.add_argument("--skip-invalid", action="store_true",
                        help=f"import the good rows, write the rejected ones to --rejects ({DEFAULT_REJECTS})")
    parser.add_argument("--rejects", type=Path, metavar="FILE", help="CSV of rejected rows")
    args = parser.parse_args(argv)
    try:
        sources = source_files(args.paths)
    except UsageError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    rejects = args.rejects or (DEFAULT_REJECTS if args.skip_invalid else None)
    migrate(database_url)
    database = Database(database_url)
    try:
        report = import_books(database, sources, dry_run=args.dry_run, skip_invalid=args.skip_invalid,
                              rejects_path=rejects)
    finally:
        database.dispose()
    for line in report.lines():
        print(line)
    for rejection in report.rejections:
        print(f"REJECTED {rejection.file}:{rejection.line} {rejection.column or '-'}: {rejection.reason}",
              file=sys.stderr)
    if report.rejected > len(report.rejections):
        print(f"... {report.rejected - len(report.rejections)} more rejections", file=sys.stderr)
    if rejects is not None and report.rejected:
        print(f"rejected rows written to {rejects}")
    if args.dry_run:
        print(f"dry run: nothing written ({report.rejected} rows rejected)")
        return 1 if report.rejected else 0
    if report.rejected and not args.skip_invalid:
        print(f"{report.rejected} rows rejected: nothing imported (--skip-invalid imports the good rows)")
        return 1
    print("imported" + (f", {report.rejected} rows rejected" if report.rejected else ""))
    return 0


def export_demo_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli export-demo",
                                     description="Write the demo borrowers as import files.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today(),
                        help="the day the demo figures hold (YYYY-MM-DD, default today)")
    parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    args = parser.parse_args(argv)
    for path in export_demo(args.directory, args.today, args.format):
        print(f"wrote {path}")
    return 0
