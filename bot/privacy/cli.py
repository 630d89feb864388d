"""`python -m bot.cli forget REF`, `python -m bot.cli purge [--dry-run]` and
`python -m bot.cli audit --from YYYY-MM-DD --to YYYY-MM-DD [--out DIR]` (docs/data-rules.md).

Exit codes: 0 done, 1 no loan has the reference (forget; nothing changed), 2 usage error.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from bot.config import ConfigError, load_settings
from bot.privacy.audit import write_audit
from bot.privacy.forget import UnknownReference, forget
from bot.privacy.purge import purge
from bot.privacy.retention import retention_from_settings, utc_now
from bot.privacy.tracker_events import TrackerEvents
from bot.storage import Database


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m bot.cli {command}")
    if command == "forget":
        parser.description = "Erase a borrower's personal data; keep required records in minimal form."
        parser.add_argument("reference", metavar="REF", help="any loan reference of the borrower")
    elif command == "purge":
        parser.description = "Apply the retention periods (CONVERSATION_TEXT_RETENTION_DAYS, RECORD_RETENTION_YEARS)."
        parser.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
    else:
        parser.description = "Write offers, agreements, promises, verification attempts and state changes as CSV."
        parser.add_argument("--from", dest="first", type=_day, required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="last", type=_day, required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--out", type=Path, metavar="DIR",
                            help="directory for the files (default: audit-FROM-TO)")
    return parser


def main(argv: list[str]) -> int:
    """`argv` is the command (forget, purge or audit) and its arguments."""
    command, argv = argv[0], argv[1:]
    args = _parser(command).parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    database = Database(settings.database_url)
    tracker = TrackerEvents(settings.tracker_store_url)
    try:
        if command == "forget":
            report = forget(database, tracker, args.reference, now=utc_now(),
                            periods=retention_from_settings(settings))
        elif command == "purge":
            report = purge(database, tracker, retention_from_settings(settings), now=utc_now(), dry_run=args.dry_run)
        else:
            if args.last < args.first:
                print(f"ERROR: --to {args.last} is before --from {args.first}", file=sys.stderr)
                return 2
            out = args.out or Path(f"audit-{args.first}-{args.last}")
            for path, rows in write_audit(database, args.first, args.last, out).items():
                print(f"wrote {path} ({rows} rows)")
            return 0
    except UnknownReference as error:
        print(f"ERROR: {error}; nothing was changed", file=sys.stderr)
        return 1
    finally:
        tracker.dispose()
        database.dispose()
    for line in report.text_lines():
        print(line)
    return 0
