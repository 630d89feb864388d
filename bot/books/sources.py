"""Files of a lender's books, read one row at a time (CSV with a header row, or JSON Lines).

Each row comes out as (line, row, raw): the line it starts on is what a rejection names; `raw` gives the
row back as the lender wrote it, for the rejects file.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from bot.books.format import BY_NAME, RECORD_TYPES, CellError, RecordType

FORMS = {".csv": "csv", ".jsonl": "jsonl"}


class UsageError(Exception):
    """The command cannot run at all: a file missing, not named after a record type, or given twice."""


class HeaderError(Exception):
    """A CSV file whose header lacks a required column: none of its rows can be read."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class SourceFile:
    path: Path
    record_type: RecordType
    form: str  # "csv" | "jsonl"

    @property
    def name(self) -> str:
        return str(self.path)


def source_files(paths: list[str | Path]) -> list[SourceFile]:
    """The files to import, in processing order (borrowers, loans, schedule, payments, charges)."""
    found: dict[str, SourceFile] = {}
    for given in paths:
        path = Path(given)
        form = FORMS.get(path.suffix.lower())
        record_type = BY_NAME.get(path.stem.lower())
        if form is None or record_type is None:
            raise UsageError(f"{path}: name a file <type>.csv or <type>.jsonl, type one of "
                             f"{', '.join(r.name for r in RECORD_TYPES)}")
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        if record_type.name in found:
            raise UsageError(f"{path}: a second {record_type.name} file (first: {found[record_type.name].path})")
        found[record_type.name] = SourceFile(path, record_type, form)
    return [found[r.name] for r in RECORD_TYPES if r.name in found]


Raw = Callable[[], str]


def read_rows(source: SourceFile) -> Iterator[tuple[int, dict[str, str] | CellError, Raw]]:
    """(line, row or the error that makes it unreadable, raw text) for every row, streamed."""
    reader = _csv_rows if source.form == "csv" else _jsonl_rows
    yield from reader(source)


def _csv_text(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


def _csv_rows(source: SourceFile):
    with source.path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [column.strip() for column in next(reader, [])]
        for column in source.record_type.required:
            if column not in header:
                raise HeaderError(column, f"the header has no column {column!r}")
        if len(set(header)) != len(header):
            raise HeaderError("", "the header names a column twice")
        line = reader.line_num + 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # a blank line
            raw = (lambda v=values: _csv_text(v))
            if len(values) != len(header):
                yield start, CellError("", f"{len(values)} fields, the header has {len(header)}"), raw
            else:
                yield start, dict(zip(header, values)), raw


def _cell(value) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else None


def _jsonl_rows(source: SourceFile):
    with source.path.open(encoding="utf-8-sig") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            raw = (lambda t=text: t.rstrip("\r\n"))
            try:
                # Numbers are kept as their text, so 12.345 is seen as written, never as a float.
                record = json.loads(text, parse_float=str, parse_int=str)
            except ValueError as error:
                yield line, CellError("", f"not a JSON object: {error}"), raw
                continue
            if not isinstance(record, dict):
                yield line, CellError("", "not a JSON object"), raw
                continue
            row = {str(key): _cell(value) for key, value in record.items()}
            bad = next((key for key, value in row.items() if value is None), None)
            missing = next((c for c in source.record_type.required if c not in row), None)
            if bad is not None:
                yield line, CellError(bad, "not a string, number, boolean or null"), raw
            elif missing is not None:
                yield line, CellError(missing, "missing key"), raw
            else:
                yield line, row, raw
