"""Importing a lender's books: the demo data round trip, idempotence, dry runs, and every rejection reason.

Each test imports files it writes itself into its own migrated SQLite database.
"""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.accounts.models import Borrower, Charge, Loan, Payment, ScheduledInstalment
from bot.accounts.repository import AccountRepository
from bot.books.export import export_demo
from bot.books.importer import import_books
from bot.books.sources import UsageError, source_files
from bot.demo.seed import DEMO_LOANS
from tests.conftest import PROJECT_ROOT, TODAY

TABLES = (Borrower, Loan, ScheduledInstalment, Payment, Charge)
SAMPLE = PROJECT_ROOT / "data" / "sample_import"


def run_import(database, directory: Path, **options):
    return import_books(database, source_files(sorted(directory.iterdir())), **options)


def counts(database) -> dict[str, int]:
    with database.unit_of_work() as session:
        return {t.__tablename__: session.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}


def snapshot(database) -> dict[str, list]:
    """Every row of the books' tables, as tuples of all columns."""
    with database.engine.connect() as conn:
        return {t.__tablename__: [tuple(r) for r in conn.execute(select(t.__table__).order_by(t.__table__.c.id))]
                for t in TABLES}


def statements(database) -> dict:
    with database.unit_of_work() as session:
        repository = AccountRepository(session)
        return {spec.reference: repository.statement(spec.reference, TODAY) for spec in DEMO_LOANS}


@pytest.fixture
def demo_files(tmp_path) -> Path:
    directory = tmp_path / "books"
    export_demo(directory, TODAY)
    return directory


def edit(directory: Path, name: str, change) -> None:
    """Rewrite one CSV file of `directory`, passing its rows (dicts) through `change`."""
    path = directory / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, list(reader)
    rows = change(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def set_cell(rows, index, column, value):
    rows[index][column] = value
    return rows


def only_rejection(database, directory):
    report = run_import(database, directory)
    assert report.rejected == 1, report.rejections
    assert not report.wrote and counts(database) == dict.fromkeys(counts(database), 0)
    return report.rejections[0]


# ---- the demo data ------------------------------------------------------------------------------------------

def test_the_sample_files_are_the_demo_data_exported_as_of_the_tests_day(demo_files):
    for path in sorted(demo_files.iterdir()):
        assert path.read_text(encoding="utf-8") == (SAMPLE / path.name).read_text(encoding="utf-8"), path.name


def test_importing_the_demo_files_gives_the_seeded_demo_statements(database, demo_database, tmp_path):
    # `demo_database` seeds the demo into `database`; import into a second, empty one and compare.
    from bot.storage import Database
    from bot.storage.schema import migrate

    url = f"sqlite:///{tmp_path / 'imported.db'}"
    migrate(url)
    imported = Database(url)
    try:
        report = run_import(imported, SAMPLE)
        assert report.rejected == 0 and report.wrote
        expected = statements(demo_database)
        assert statements(imported) == expected
        assert expected["HCF-3003"].returned_payments == 1 and expected["HCF-1001"].late_fees > 0
        with imported.unit_of_work() as session:
            wang = session.execute(select(Borrower).join(Loan).where(Loan.reference == "HCF-2002")).scalar_one()
            assert (wang.full_name, wang.preferred_language, wang.time_zone) == (
                "王芳 (Wang Fang)", "zh", "Asia/Shanghai")
    finally:
        imported.dispose()


def test_a_second_import_of_the_same_files_changes_nothing(database, demo_files):
    run_import(database, demo_files)
    first_counts, first_rows = counts(database), snapshot(database)
    assert first_counts == {"borrowers": 4, "loans": 4, "scheduled_instalments": 96, "payments": 27, "charges": 1}
    report = run_import(database, demo_files)
    assert report.rejected == 0
    assert counts(database) == first_counts and snapshot(database) == first_rows


def test_a_changed_value_is_updated_in_place_by_the_lenders_key(database, demo_files):
    run_import(database, demo_files)
    edit(demo_files, "borrowers", lambda rows: set_cell(rows, 0, "time_zone", "Europe/London"))
    edit(demo_files, "charges", lambda rows: set_cell(rows, 0, "waived", "true"))
    before = counts(database)
    run_import(database, demo_files)
    assert counts(database) == before
    with database.unit_of_work() as session:
        assert session.execute(select(Borrower.time_zone).where(Borrower.external_id == "CUST-1001")).scalar_one() \
            == "Europe/London"
        assert session.execute(select(Charge.waived)).scalar_one() is True


def test_jsonl_files_import_the_same_books_as_csv(database, tmp_path):
    directory = tmp_path / "jsonl"
    export_demo(directory, TODAY, "jsonl")
    first = json.loads((directory / "loans.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["loan_reference"] == "HCF-1001"
    report = run_import(database, directory)
    assert report.rejected == 0
    assert statements(database)["HCF-3003"].returned_payments == 1
    assert counts(database)["scheduled_instalments"] == 96


def test_jsonl_numbers_are_read_as_written(database, tmp_path):
    directory = tmp_path / "jsonl"
    export_demo(directory, TODAY, "jsonl")
    lines = (directory / "charges.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["amount"] = 180.005  # a JSON number with too many decimals, not a float rounded to 180.0
    (directory / "charges.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    rejection = only_rejection(database, directory)
    assert (rejection.line, rejection.column) == (1, "amount") and "more than 2 decimal places" in rejection.reason


def test_a_dry_run_validates_and_writes_nothing(database, demo_files):
    report = run_import(database, demo_files, dry_run=True)
    assert report.rejected == 0 and not report.wrote
    assert set(counts(database).values()) == {0}


# ---- rejections ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, index, column, value, line, reason", [
    ("schedule", 3, "loan_reference", "HCF-9999", 5, "unknown loan HCF-9999"),
    ("payments", 0, "amount", "-1250.00", 2, "negative"),
    ("borrowers", 1, "date_of_birth", "1992-02-30", 3, "not a date that exists"),
    ("loans", 0, "currency", "XYZ", 2, "unknown currency 'XYZ'"),
    ("charges", 0, "amount", "180.005", 2, "more than 2 decimal places"),
    ("borrowers", 2, "time_zone", "Mars/Olympus", 4, "not an IANA time zone"),
    ("borrowers", 0, "language", "fr", 2, "not one of en, zh"),
    ("payments", 2, "status", "bounced", 4, "not one of credited, returned, reversed, failed"),
    ("payments", 0, "instalment_number", "99", 2, "HCF-1001 has no instalment 99"),
    ("loans", 1, "borrower_id", "CUST-0000", 3, "unknown borrower CUST-0000"),
    ("schedule", 0, "amount", "1250.01", 2, "is not principal 874.43 + interest 375.57"),
])
def test_a_bad_cell_is_rejected_with_file_line_column_and_reason_and_nothing_is_imported(
        database, demo_files, name, index, column, value, line, reason):
    edit(demo_files, name, lambda rows: set_cell(rows, index, column, value))
    report = run_import(database, demo_files)
    first = report.rejections[0]
    assert (Path(first.file).name, first.line, first.column) == (f"{name}.csv", line, column)
    assert reason in first.reason
    assert not report.wrote and set(counts(database).values()) == {0}


def test_loan_references_follow_the_configured_format_and_the_reason_shows_its_example(
        database, demo_files, reference_format):
    reference_format("LN/######")
    report = run_import(database, demo_files)
    loans = [r for r in report.rejections if Path(r.file).name == "loans.csv"]
    assert [(r.line, r.column) for r in loans] == [(2, "loan_reference"), (3, "loan_reference"),
                                                   (4, "loan_reference"), (5, "loan_reference")]
    assert loans[0].reason == "'HCF-1001' is not a loan reference like LN/123456 (LOAN_REFERENCE_FORMAT LN/######)"
    assert not report.wrote and set(counts(database).values()) == {0}

    def renumbered(rows):  # HCF-1001 -> LN/001001, as the lender's books would have it
        return [{**row, "loan_reference": "LN/00" + row["loan_reference"].removeprefix("HCF-")} for row in rows]
    for name in ("loans", "schedule", "payments", "charges"):
        edit(demo_files, name, renumbered)
    edit(demo_files, "loans", lambda rows: set_cell(rows, 1, "loan_reference", "ln/001002"))  # not as written
    report = run_import(database, demo_files)
    rejection = report.rejections[0]  # then the rows of that loan in the other files, as unknown
    assert (Path(rejection.file).name, rejection.line, rejection.reason) == (
        "loans.csv", 3, "'ln/001002' is not a loan reference like LN/123456 (LOAN_REFERENCE_FORMAT LN/######)")
    assert not report.wrote
    edit(demo_files, "loans", lambda rows: set_cell(rows, 1, "loan_reference", "LN/002002"))
    report = run_import(database, demo_files)
    assert report.rejected == 0 and report.wrote
    with database.unit_of_work() as session:
        assert set(session.execute(select(Loan.reference)).scalars()) == {"LN/001001", "LN/002002", "LN/003003",
                                                                           "LN/004004"}


def test_a_loan_in_yen_refuses_decimals(database, demo_files):
    def to_yen(rows):
        return [{**row, "currency": "JPY"} if row["loan_reference"] == "HCF-4004" else row for row in rows]
    edit(demo_files, "loans", to_yen)
    report = run_import(database, demo_files)
    reasons = {(Path(r.file).name, r.column) for r in report.rejections}
    assert ("loans.csv", "principal") in reasons  # 25xxx.xx has decimals; JPY has none
    assert not report.wrote


def test_a_duplicate_key_is_rejected_naming_the_first_line(database, demo_files):
    edit(demo_files, "payments", lambda rows: rows + [dict(rows[0])])
    rejection = only_rejection(database, demo_files)
    assert (Path(rejection.file).name, rejection.line, rejection.column) == ("payments.csv", 29, "payment_id")
    assert "duplicate payment_id PAY-1001-01 (first on line 2)" in rejection.reason


def test_a_duplicate_instalment_is_rejected(database, demo_files):
    edit(demo_files, "schedule", lambda rows: rows[:1] + [dict(rows[0])] + rows[1:])
    report = run_import(database, demo_files)
    first = report.rejections[0]
    assert (first.line, first.column) == (3, "instalment_number") and "duplicate instalment 1" in first.reason
    assert not report.wrote


def test_a_schedule_that_does_not_sum_to_the_principal_is_rejected_to_the_minor_unit(database, demo_files):
    def one_cent_off(rows):
        rows[0]["principal"], rows[0]["interest"] = "874.44", "375.56"  # amount still adds up
        return rows
    edit(demo_files, "schedule", one_cent_off)
    report = run_import(database, demo_files)
    sums = [r for r in report.rejections if r.column == "principal"]
    assert len(sums) == 1 and sums[0].line == 2
    assert "sum to 25038.02, the loan's principal is 25038.01" in sums[0].reason
    assert not report.wrote


def test_a_csv_missing_a_required_column_is_rejected_at_its_header(database, demo_files):
    path = demo_files / "loans.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("annual_rate", "rate"), encoding="utf-8")
    report = run_import(database, demo_files)
    header = report.rejections[0]
    assert (Path(header.file).name, header.line, header.column) == ("loans.csv", 1, "annual_rate")
    assert any("unknown loan" in r.reason for r in report.rejections[1:])
    assert not report.wrote and set(counts(database).values()) == {0}


def test_skip_invalid_imports_the_good_rows_and_writes_the_rejects_file(database, demo_files, tmp_path):
    edit(demo_files, "loans", lambda rows: set_cell(rows, 1, "currency", "XYZ"))  # HCF-2002
    edit(demo_files, "payments", lambda rows: set_cell(rows, 0, "paid_on", "2026-13-01"))
    rejects = tmp_path / "rejects.csv"
    report = run_import(database, demo_files, skip_invalid=True, rejects_path=rejects, batch_size=10)
    assert report.wrote
    with database.unit_of_work() as session:
        references = set(session.execute(select(Loan.reference)).scalars())
    assert references == {"HCF-1001", "HCF-3003", "HCF-4004"}
    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert list(rows[0]) == ["file", "line", "column", "reason", "raw"]
    assert (Path(rows[0]["file"]).name, rows[0]["line"], rows[0]["column"]) == ("loans.csv", "3", "currency")
    assert rows[0]["raw"].startswith("HCF-2002,CUST-2002,XYZ,")
    # HCF-2002's 24 instalments and 4 payments follow it out, then the bad date.
    assert sum(1 for r in rows if "unknown loan HCF-2002 (its loans row was rejected)" in r["reason"]) == 24 + 4
    assert any(r["column"] == "paid_on" and r["line"] == "2" for r in rows)
    assert counts(database)["payments"] == 27 - 4 - 1
    statement = statements(database)["HCF-1001"]
    assert statement.missed_amount > statements_of_seed(tmp_path)["HCF-1001"].missed_amount  # one payment less


def statements_of_seed(tmp_path):
    from bot.demo.seed import seed_demo_data
    from bot.storage import Database
    from bot.storage.schema import migrate

    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    migrate(url)
    seeded = Database(url)
    with seeded.unit_of_work() as session:
        seed_demo_data(session, TODAY)
    try:
        return statements(seeded)
    finally:
        seeded.dispose()


def test_a_schedule_for_a_loan_already_in_the_database_is_accepted(database, demo_files):
    run_import(database, demo_files)
    only_schedule = demo_files.parent / "later"
    only_schedule.mkdir()
    shutil.copy(demo_files / "schedule.csv", only_schedule / "schedule.csv")
    report = run_import(database, only_schedule)
    assert report.rejected == 0 and report.files[0].written == 96


# ---- the command --------------------------------------------------------------------------------------------

def run_cli(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "APP_VAR_DIR": str(tmp_path / "var"),
                               "PYTHONPATH": str(PROJECT_ROOT)}, timeout=120)


def test_the_command_exits_0_1_2_and_names_the_rejected_cell(tmp_path):
    files = sorted(str(p) for p in SAMPLE.iterdir())
    assert run_cli(tmp_path, "import", *files, "--dry-run").returncode == 0
    ok = run_cli(tmp_path, "import", *files)
    assert ok.returncode == 0 and "schedule.csv: 96 rows, 0 rejected, 96 written" in ok.stdout
    bad = tmp_path / "bad"
    shutil.copytree(SAMPLE, bad)
    edit(bad, "charges", lambda rows: set_cell(rows, 0, "amount", "-5"))
    result = run_cli(tmp_path, "import", *sorted(str(p) for p in bad.iterdir()))
    assert result.returncode == 1 and "nothing imported" in result.stdout
    assert "charges.csv:2 amount: -5 is negative" in result.stderr
    assert run_cli(tmp_path, "import", str(bad / "nothing.csv")).returncode == 2
    assert run_cli(tmp_path, "import").returncode == 2


def test_files_not_named_after_a_record_type_or_given_twice_are_usage_errors(tmp_path):
    (tmp_path / "loans.txt").write_text("")
    with pytest.raises(UsageError):
        source_files([tmp_path / "loans.txt"])
    (tmp_path / "loans.csv").write_text("")
    (tmp_path / "loans.jsonl").write_text("")
    with pytest.raises(UsageError, match="a second loans file"):
        source_files([tmp_path / "loans.csv", tmp_path / "loans.jsonl"])


def test_skip_invalid_leaves_out_a_whole_schedule_that_does_not_sum_and_the_payments_to_it(database, demo_files,
                                                                                              tmp_path):
    def one_cent_off(rows):
        rows[0]["principal"], rows[0]["interest"] = "874.44", "375.56"  # HCF-1001, amount still adds up
        return rows
    edit(demo_files, "schedule", one_cent_off)
    report = run_import(database, demo_files, skip_invalid=True, rejects_path=tmp_path / "rejects.csv")
    assert report.wrote
    with database.unit_of_work() as session:
        alex = session.execute(select(Loan).where(Loan.reference == "HCF-1001")).scalar_one()
        assert session.execute(select(func.count()).select_from(ScheduledInstalment)
                               .where(ScheduledInstalment.loan_id == alex.id)).scalar_one() == 0
    assert counts(database)["scheduled_instalments"] == 96 - 24
    assert sum(1 for r in report.rejections if "HCF-1001 has no instalment" in r.reason) == 7  # its 7 payments


def test_a_borrowers_jurisdiction_is_optional_and_checked(database, demo_files):
    def with_jurisdictions(values):
        path = demo_files / "borrowers.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns, rows = list(dict.fromkeys([*reader.fieldnames, "jurisdiction"])), list(reader)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows({**row, "jurisdiction": value} for row, value in zip(rows, values))

    with_jurisdictions(["UK", "", "", ""])
    assert run_import(database, demo_files).rejected == 0
    with database.unit_of_work() as session:
        assert sorted(session.execute(select(Borrower.jurisdiction)).scalars(), key=str) == [None, None, None, "UK"]
    with_jurisdictions(["uk; DROP"] * 4)
    report = run_import(database, demo_files)
    assert report.rejected == 4 and report.rejections[0].column == "jurisdiction"
