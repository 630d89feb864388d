"""The payments feed and reconciliation on a real SQLite database with the demo borrowers.

A payment that names no instalment now pays the oldest arrears; promises are kept or broken by what was paid;
plans become active, fall into arrears and break; every change is an event with its cause; and a broken
promise or plan takes effect in the negotiation's anti-stalling rules.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.accounts.models import Payment, PaymentStatus
from bot.accounts.repository import AccountRepository
from bot.agreements.models import PromiseToPay
from bot.agreements.service import negotiation_history, record_offer, record_promise, sign_agreement
from bot.handoff.models import Escalation
from bot.lifecycle.cli import payments_main, reconcile_main
from bot.lifecycle.feed import record_payments
from bot.lifecycle.models import AccountEvent, LoanDayStatus, PaymentAllocation, PlanStanding
from bot.lifecycle.reconcile import reconcile
from bot.negotiation import load_policy, stalling_check
from tests.conftest import PROJECT_ROOT, TODAY

POLICY_PATH = PROJECT_ROOT / "policy.yml"
POLICY = load_policy(POLICY_PATH)
NOW = datetime.combine(TODAY, datetime.min.time()) + timedelta(hours=10)
D = Decimal


def feed(database, *rows, today=TODAY, **options):
    numbered = [(i, {k: str(v) for k, v in row.items()}) for i, row in enumerate(rows, start=1)]
    return record_payments(database, POLICY, numbered, now=NOW, today=today, **options)


def payment(payment_id, amount, paid_on=TODAY, reference="HCF-1001", status="credited", **extra):
    return {"payment_id": payment_id, "loan_reference": reference, "amount": amount, "paid_on": paid_on.isoformat(),
            "status": status, **extra}


def statement(database, reference="HCF-1001", today=TODAY):
    with database.unit_of_work() as session:
        return AccountRepository(session).statement(reference, today)


def events(database, reference="HCF-1001"):
    with database.unit_of_work() as session:
        return [(e.subject, e.from_state, e.to_state, e.cause, e.cause_ref) for e in session.execute(
            select(AccountEvent).where(AccountEvent.loan_reference == reference).order_by(AccountEvent.id)).scalars()]


def promise(database, amount, due_on, reference="HCF-1001"):
    with database.unit_of_work() as session:
        return record_promise(session, conversation_id="conv-1", loan_reference=reference, amount=D(amount),
                              due_on=due_on, now=NOW - timedelta(hours=1))


def test_a_payment_naming_no_instalment_pays_the_oldest_arrears_fees_first(demo_database):
    before = statement(demo_database)
    assert (before.arrears, before.late_fees, len(before.missed_instalments)) == (D("3930.00"), D("180.00"), 3)
    result = feed(demo_database, payment("BANK-1", "1430.00"))
    assert (result.recorded, result.rejections) == (1, [])
    after = statement(demo_database)
    # 180.00 of fees, then the oldest missed instalment (1,250.00) in full: two instalments left in arrears.
    assert (after.late_fees, len(after.missed_instalments), after.arrears) == (D("0.00"), 2, D("2500.00"))
    with demo_database.unit_of_work() as session:
        parts = session.execute(select(PaymentAllocation.component, func.sum(PaymentAllocation.amount))
                                .join(Payment, Payment.id == PaymentAllocation.payment_id)
                                .where(Payment.external_id == "BANK-1").group_by(PaymentAllocation.component)).all()
        components = dict(parts)
    assert components["late_fee"] == D("180.00") and sum(components.values()) == D("1430.00")


def test_the_same_feed_twice_changes_nothing_and_a_return_reflows_the_books(demo_database):
    feed(demo_database, payment("BANK-1", "1430.00"))
    again = feed(demo_database, payment("BANK-1", "1430.00"))
    assert (again.recorded, again.duplicates, again.changed) == (0, 1, 0)
    returned = feed(demo_database, payment("BANK-1", "1430.00", status="returned", note="insufficient funds"))
    assert returned.changed == 1
    assert statement(demo_database).arrears == D("3930.00")
    assert ("payment", "succeeded", "returned", "feed", "insufficient funds") in events(demo_database)
    with demo_database.unit_of_work() as session:
        assert session.execute(select(func.count()).select_from(PaymentAllocation)).scalar_one() == \
            session.execute(select(func.count()).select_from(PaymentAllocation).join(
                Payment, Payment.id == PaymentAllocation.payment_id).where(
                Payment.status == PaymentStatus.SUCCEEDED)).scalar_one()


def test_a_feed_with_one_bad_row_records_nothing_and_says_why(demo_database):
    result = feed(demo_database, payment("OK-1", "100.00"), payment("BAD-1", "-5.00"),
                  payment("BAD-2", "10.00", reference="HCF-9999"), payment("OK-1", "100.00"))
    assert [(r.row, r.column) for r in result.rejections] == [(2, "amount"), (3, "loan_reference"), (4, "payment_id")]
    assert "unknown loan 'HCF-9999'" in result.rejections[1].reason
    with demo_database.unit_of_work() as session:
        assert session.execute(select(Payment).where(Payment.external_id == "OK-1")).first() is None


def test_a_payment_id_cannot_change_its_amount(demo_database):
    feed(demo_database, payment("BANK-7", "100.00"))
    result = feed(demo_database, payment("BANK-7", "999.00"))
    assert result.rejections and "cannot change" in result.rejections[0].reason
    assert statement(demo_database).arrears == D("3830.00")


def test_a_promise_is_kept_by_a_feed_payment_and_frees_the_borrower_to_promise_again(demo_database):
    promise_id = promise(demo_database, "1000.00", TODAY + timedelta(days=5))
    with demo_database.unit_of_work() as session:
        assert negotiation_history(session, "HCF-1001", NOW).open_promises == 1
    result = feed(demo_database, payment("BANK-2", "1000.00", paid_on=TODAY + timedelta(days=1)),
                  today=TODAY + timedelta(days=1))
    assert ("promise", "open", "kept", "payment", "BANK-2") in events(demo_database)
    assert any("kept" in line for line in result.reconciliation.changes)
    with demo_database.unit_of_work() as session:
        kept = session.get(PromiseToPay, promise_id)
        assert (kept.status, kept.paid) == ("kept", D("1000.00"))
        assert negotiation_history(session, "HCF-1001", NOW).open_promises == 0


def test_two_broken_promises_hand_the_account_to_a_person(demo_database):
    for due in (TODAY + timedelta(days=3), TODAY + timedelta(days=4)):
        promise(demo_database, "800.00", due)
    feed(demo_database, payment("BANK-3", "300.00", paid_on=TODAY + timedelta(days=1)), today=TODAY + timedelta(days=1))
    report = reconcile(demo_database, POLICY, today=TODAY + timedelta(days=7), now=NOW)
    states = sorted(line.split(" -> ")[1].split(" ")[0] for line in report.changes if " -> " in line)
    assert states == ["partly_kept", "partly_kept"]  # 300 paid counts toward both promises of the period
    with demo_database.unit_of_work() as session:
        history = negotiation_history(session, "HCF-1001", NOW)
        queued = session.execute(select(Escalation)).scalars().all()
    assert history.broken_promises == 2 and stalling_check(history, POLICY) == "broken_promises"
    # ... and the account is in the agents' queue at once, on the conversation where the promises were made
    assert [(e.conversation_id, e.reason, e.status) for e in queued] == [("conv-1", "broken_promises", "waiting")]
    summary = json.loads(queued[0].summary)
    assert summary["loan_ref"] == "HCF-1001" and "broken_promises_limit=2" in summary["reconciliation"]


def sign_plan(database, schedule, reference="HCF-1001", accepted=NOW):
    terms = {"concessions": ["spread_arrears"], "monthly": "400.00", "months": len(schedule) - 1,
             "total_paid": str(sum(D(a) for _, a in schedule)), "authority": "bot", "rule": "test",
             "policy_version": POLICY.version,
             "schedule": [{"number": n, "due": due.isoformat(), "amount": a}
                          for n, (due, a) in enumerate(schedule, start=1)]}
    with database.unit_of_work() as session:
        offer_id = record_offer(session, conversation_id="conv-1", loan_reference=reference, terms=terms, now=accepted)
        return sign_agreement(session, conversation_id="conv-1", loan_reference=reference, borrower_name="Alex",
                              language="en", terms=terms, offer_record_id=offer_id, record={}, acceptance_text="yes",
                              now=accepted).agreement.reference


def standing(database, reference="HCF-1001"):
    with database.unit_of_work() as session:
        row = session.execute(select(PlanStanding).where(PlanStanding.loan_reference == reference)
                              .order_by(PlanStanding.id.desc())).scalars().first()
        return (row.state, row.paid, row.due) if row else None


def test_a_plan_lives_on_from_the_payments(demo_database):
    first, second = TODAY + timedelta(days=7), TODAY + timedelta(days=37)
    agreement = sign_plan(demo_database, [(first, "400.00"), (second, "400.00"), (second + timedelta(days=30), "400.00")])
    reconcile(demo_database, POLICY, today=TODAY, now=NOW)
    assert standing(demo_database) == ("pending", D("0.00"), D("0.00"))
    feed(demo_database, payment("GF-1", "400.00", paid_on=first - timedelta(days=1)), today=first - timedelta(days=1))
    assert standing(demo_database)[0] == "active"
    reconcile(demo_database, POLICY, today=second + timedelta(days=2), now=NOW)
    assert standing(demo_database) == ("in_arrears", D("400.00"), D("800.00"))
    feed(demo_database, payment("P-2", "400.00", paid_on=second + timedelta(days=3)), today=second + timedelta(days=3))
    assert standing(demo_database)[0] == "active"
    reconcile(demo_database, POLICY, today=second + timedelta(days=62), now=NOW)
    assert standing(demo_database)[0] == "broken"
    assert [e[1:] for e in events(demo_database) if e[0] == "agreement"] == [
        (None, "pending", "rule", "agreement signed"),
        ("pending", "active", "payment", "GF-1"),
        ("active", "in_arrears", "rule", f"lifecycle.plan_arrears_after_days=1 (policy {POLICY.version})"),
        ("in_arrears", "active", "payment", "P-2"),
        ("active", "broken", "rule", f"lifecycle.plan_default_after_days=30 (policy {POLICY.version})"),
    ]
    assert agreement.startswith("AGR-")
    with demo_database.unit_of_work() as session:
        history = negotiation_history(session, "HCF-1001", NOW + timedelta(days=100))
    assert stalling_check(history, POLICY) == "plan_broken"
    with demo_database.unit_of_work() as session:
        assert [(e.reason, e.status) for e in session.execute(select(Escalation)).scalars()] == [
            ("plan_broken", "waiting")]


def test_reconciling_twice_records_nothing_twice_and_keeps_a_day_by_day_history(demo_database):
    promise(demo_database, "800.00", TODAY + timedelta(days=3))
    for day in (TODAY, TODAY, TODAY + timedelta(days=1)):
        reconcile(demo_database, POLICY, today=day, now=NOW)
    with demo_database.unit_of_work() as session:
        days = session.execute(select(LoanDayStatus.as_of, LoanDayStatus.days_past_due)
                               .order_by(LoanDayStatus.as_of)).all()
    assert days == [(TODAY, 75), (TODAY + timedelta(days=1), 76)]
    assert events(demo_database) == []


def test_the_payments_command_records_a_file_and_reconciles(demo_database, tmp_path, capsys):
    path = tmp_path / "bank-2026-11-28.csv"
    path.write_text("payment_id,loan_reference,amount,paid_on,status,note\n"
                    f"CSV-1,HCF-2002,1200.00,{TODAY.isoformat()},credited,<script>alert(1)</script>\n",
                    encoding="utf-8")
    assert payments_main([str(path), "--dry-run"], demo_database.url, POLICY_PATH) == 0
    assert "dry run" in capsys.readouterr().out
    assert statement(demo_database, "HCF-2002").arrears == D("2400.00")
    assert payments_main([str(path)], demo_database.url, POLICY_PATH) == 0
    assert "1 recorded" in capsys.readouterr().out
    assert statement(demo_database, "HCF-2002").arrears == D("1200.00")
    bad = tmp_path / "bad.csv"
    bad.write_text("payment_id,loan_reference,amount,paid_on,status\nX,HCF-2002,12.345,2026-02-30,credited\n")
    assert payments_main([str(bad)], demo_database.url, POLICY_PATH) == 1
    assert "REJECTED" in capsys.readouterr().err
    assert reconcile_main(["HCF-2002"], demo_database.url, POLICY_PATH) == 0
    assert "reconciled 1 loans" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["1e3", "１００", "100.001", "0", ""])
def test_amounts_that_are_not_plain_money_are_refused(demo_database, value):
    assert feed(demo_database, payment("W-1", value)).rejections


def test_json_numbers_are_refused_so_no_float_ever_becomes_money(demo_database):
    result = record_payments(demo_database, POLICY, [(1, {**payment("J-1", "1"), "amount": 100.10})],
                             now=NOW, today=TODAY)
    assert "never JSON numbers" in result.rejections[0].reason
    assert json.dumps(result.summary())  # the HTTP answer is plain JSON
