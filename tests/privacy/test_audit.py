"""The audit export: fixed headers, the days asked for and no others, ISO times, decimal money, no
dates of birth, and text a spreadsheet cannot run."""
from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal

import pytest

from bot.agreements.models import PromiseToPay
from bot.agreements.service import record_offer, sign_agreement
from bot.cli import main as cli
from bot.lifecycle.models import AccountEvent
from bot.privacy.audit import HEADERS, cell, write_audit
from bot.verification.models import VerificationAttempt
from tests.privacy.conftest import TERMS, alex_record

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
INSIDE = [datetime(2026, 11, 1, 0, 0), datetime(2026, 11, 30, 23, 59, 59)]
OUTSIDE = [datetime(2026, 10, 31, 23, 59, 59), datetime(2026, 12, 1, 0, 0)]


def read(path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def records(demo_database):
    """One of each record at each edge of November, and one each side of it."""
    with demo_database.unit_of_work() as session:
        for number, at in enumerate(INSIDE + OUTSIDE):
            conversation_id = "@evil" if number == 0 else f"telegram:{number}"
            offer = record_offer(session, conversation_id=conversation_id, loan_reference="HCF-1001", terms=TERMS,
                                 now=at)
            sign_agreement(session, conversation_id=conversation_id, loan_reference="HCF-1001",
                           borrower_name="-Alex Morgan" if number == 0 else "Alex Morgan", language="en",
                           terms=TERMS, offer_record_id=offer,
                           record=alex_record(conversation_id, "=HYPERLINK(\"http://x\",\"ok\")"),
                           acceptance_text="=HYPERLINK(\"http://x\",\"ok\")" if number == 0 else "I agree", now=at)
            session.add(PromiseToPay(conversation_id=conversation_id, loan_reference="HCF-1001",
                                     amount=Decimal("1250.50"), due_on=at.date(), status="open", recorded_at=at,
                                     paid=Decimal("0.00")))
            session.add(VerificationAttempt(loan_reference="+HCF-1001" if number == 0 else "HCF-1001",
                                            conversation_id=conversation_id, channel="telegram", succeeded=False,
                                            attempted_at=at, outcome="mismatch", reason="wrong_date_of_birth"))
            session.add(AccountEvent(loan_reference="HCF-1001", subject="promise", subject_id=str(number),
                                     from_state="open", to_state="kept", cause="payment", cause_ref="PAY-1",
                                     detail='{"paid": "1250.50"}', occurred_on=at.date(), recorded_at=at))
    return demo_database


def test_each_file_has_its_fixed_header_and_the_rows_of_the_period_only(records, tmp_path):
    written = write_audit(records, FIRST, LAST, tmp_path / "out")
    assert {path.name: rows for path, rows in written.items()} == {
        "offers.csv": 2, "agreements.csv": 2, "promises.csv": 2, "verification_attempts.csv": 2,
        "state_changes.csv": 2}
    for name, header in HEADERS.items():
        with (tmp_path / "out" / name).open(encoding="utf-8-sig") as file:
            assert next(csv.reader(file)) == list(header), name
    assert HEADERS["agreements.csv"] == (
        "reference", "accepted_at", "loan_reference", "conversation_id", "offer_id", "borrower_name", "language",
        "policy_version", "monthly", "months", "total_paid", "first_payment", "concessions", "acceptance_text")
    assert [row["shown_at"] for row in read(tmp_path / "out" / "offers.csv")] == [
        "2026-11-01T00:00:00Z", "2026-11-30T23:59:59Z"]
    assert [row["occurred_on"] for row in read(tmp_path / "out" / "state_changes.csv")] == [
        "2026-11-01", "2026-11-30"]


def test_money_is_decimal_text_and_no_date_of_birth_is_written(records, tmp_path):
    out = tmp_path / "out"
    write_audit(records, FIRST, LAST, out)
    promise = read(out / "promises.csv")[1]
    assert (promise["amount"], promise["paid"], promise["due_on"], promise["settled_at"]) == (
        "1250.50", "0.00", "2026-11-30", "")
    agreement = read(out / "agreements.csv")[1]
    assert (agreement["monthly"], agreement["months"], agreement["total_paid"], agreement["first_payment"]) == (
        "500.00", "8", "4000.00", "2026-12-05")
    offer = read(out / "offers.csv")[1]
    assert (offer["monthly"], offer["total_paid"], offer["status"]) == ("500.00", "4000.00", "accepted")
    everything = "".join(path.read_text(encoding="utf-8-sig") for path in out.iterdir())
    assert "1988-04-12" not in everything and "1988" not in everything
    assert not any("birth" in column for header in HEADERS.values() for column in header)


def test_cells_a_spreadsheet_would_run_get_a_leading_apostrophe(records, tmp_path):
    write_audit(records, FIRST, LAST, tmp_path / "out")
    agreement = read(tmp_path / "out" / "agreements.csv")[0]
    assert agreement["acceptance_text"] == "'=HYPERLINK(\"http://x\",\"ok\")"
    assert agreement["borrower_name"] == "'-Alex Morgan" and agreement["conversation_id"] == "'@evil"
    assert read(tmp_path / "out" / "verification_attempts.csv")[0]["loan_reference"] == "'+HCF-1001"
    assert [cell(v) for v in ("\tx", "\rx", "a=b", Decimal("-5.00"), None, True, 3)] == [
        "'\tx", "'\rx", "a=b", "-5.00", "", "true", "3"]


def test_a_large_period_is_streamed_to_the_file_whole(demo_database, tmp_path):
    at = datetime(2026, 11, 15, 9, 0)
    with demo_database.unit_of_work() as session:
        session.add_all(VerificationAttempt(loan_reference="HCF-2002", conversation_id=f"web:{i}", channel="socketio",
                                            succeeded=False, attempted_at=at, outcome="mismatch")
                        for i in range(2500))
    written = write_audit(demo_database, FIRST, LAST, tmp_path / "out")
    assert written[tmp_path / "out" / "verification_attempts.csv"] == 2500
    assert len(read(tmp_path / "out" / "verification_attempts.csv")) == 2500


def test_the_cli_writes_the_files_and_refuses_a_period_that_ends_before_it_starts(records, tmp_path, monkeypatch,
                                                                                   capsys):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", records.url)
    out = tmp_path / "audit"
    assert cli(["audit", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out)]) == 0
    assert f"wrote {out / 'offers.csv'} (2 rows)" in capsys.readouterr().out
    assert sorted(path.name for path in out.iterdir()) == sorted(HEADERS)
    assert (out / "agreements.csv").stat().st_mode & 0o077 == 0  # personal data: this user only

    assert cli(["audit", "--from", "2026-11-30", "--to", "2026-11-01", "--out", str(out)]) == 2
    assert "--to 2026-11-01 is before --from 2026-11-30" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli(["audit", "--from", "1 Nov", "--to", "2026-11-30"])
    assert exit_.value.code == 2
