"""Features from the database equal a hand-built loan's history, worked out by hand."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from bot.accounts.models import Borrower, Loan, Payment, PaymentStatus, ScheduledInstalment
from bot.agreements.models import Agreement, PromiseToPay
from bot.handoff.models import Escalation
from bot.lifecycle.models import LoanDayStatus, PlanStanding
from bot.outreach.models import Contact, ContactAttempt
from bot.risk.features import FEATURES, facts_from_database, feature_matrix

TODAY = date(2026, 11, 28)  # 3-month window: after 2026-08-30; 6-month window: after 2026-06-01


def add_loan(session, reference: str, dues: list[date], amount: str = "100.00") -> Loan:
    borrower = Borrower(full_name=f"Borrower {reference}", date_of_birth=date(1985, 3, 1), preferred_language="en")
    loan = Loan(reference=reference, borrower=borrower, currency="CNY", principal=Decimal("1000.00"),
                annual_rate=Decimal("0.18"), contractual_instalment=Decimal(amount), start_date=date(2026, 1, 1))
    session.add(loan)
    session.flush()
    for number, due in enumerate(dues, start=1):
        session.add(ScheduledInstalment(loan_id=loan.id, number=number, due_date=due, amount=Decimal(amount),
                                        principal=Decimal(amount), interest=Decimal("0.00")))
    return loan


def pay(session, loan: Loan, amount: str, on: date, status: PaymentStatus = PaymentStatus.SUCCEEDED) -> None:
    session.add(Payment(loan_id=loan.id, amount=Decimal(amount), paid_on=on, status=status))


def build_book(session) -> None:
    dues = [date(2026, month, 10) for month in range(6, 13)] + [date(2027, 1, 10)]
    late = add_loan(session, "HCF-5001", dues)
    for on in (date(2026, 6, 12), date(2026, 7, 12), date(2026, 8, 12)):
        pay(session, late, "100.00", on)
    pay(session, late, "50.00", date(2026, 9, 15))
    pay(session, late, "100.00", date(2026, 10, 12), PaymentStatus.RETURNED)
    pay(session, late, "100.00", date(2026, 3, 1), PaymentStatus.FAILED)      # older than 6 months
    for as_of, dpd in ((date(2026, 5, 1), 70), (date(2026, 6, 30), 0), (date(2026, 7, 15), 65),
                       (date(2026, 8, 15), 5), (date(2026, 9, 30), 20), (date(2026, 10, 31), 51),
                       (date(2026, 11, 27), 48), (date(2026, 11, 29), 99)):    # the last is after today
        session.add(LoanDayStatus(loan_id=late.id, as_of=as_of, arrears=Decimal("0.00"), days_past_due=dpd))
    for due_on, status in ((date(2026, 10, 1), "kept"), (date(2026, 11, 1), "broken"),
                           (date(2026, 9, 5), "partly_kept"), (date(2026, 1, 1), "broken"),
                           (date(2026, 12, 1), "open")):
        session.add(PromiseToPay(conversation_id="c1", loan_reference="HCF-5001", amount=Decimal("50.00"),
                                 due_on=due_on, status=status, recorded_at=datetime(2026, 6, 1)))
    agreement = Agreement(reference="AG-1", loan_reference="HCF-5001", conversation_id="c1", borrower_name="B",
                          language="en", policy_version="test", terms_json="{}", acceptance_text="yes",
                          accepted_at=datetime(2026, 7, 1))
    session.add(agreement)
    session.flush()
    session.add(PlanStanding(agreement_id=agreement.id, loan_reference="HCF-5001", state="broken",
                             paid=Decimal("0.00"), due=Decimal("100.00"), changed_at=datetime(2026, 8, 1)))
    for created, summary in ((datetime(2026, 7, 1), {"loan_ref": "HCF-5001", "hardship_cause": "illness"}),
                             (datetime(2026, 10, 1), {"loan_ref": "HCF-5001", "hardship_cause": "job_loss",
                                                      "hardship_temporary": True})):
        session.add(Escalation(conversation_id=f"c-{created:%m}", reason="hardship", priority=3,
                               summary=json.dumps(summary), status="closed", created_at=created))
    contact = Contact(key="k1", loan_reference="HCF-5001", conversation_id="c1", channel="telegram",
                      reason="missed_instalment", subject="conversation", jurisdiction="default",
                      due_at=datetime(2026, 7, 1), created_at=datetime(2026, 7, 1))
    session.add(contact)
    session.flush()
    for at, outcome in ((datetime(2026, 11, 1, 9), "sent"), (datetime(2026, 10, 1, 9), "sent"),
                        (datetime(2026, 11, 20, 9), "refused"), (datetime(2026, 7, 1, 9), "failed")):
        session.add(ContactAttempt(contact_id=contact.id, loan_reference="HCF-5001", conversation_id="c1",
                                   channel="telegram", attempted_at=at, outcome=outcome))
    paid_off = add_loan(session, "HCF-5002", [date(2026, 10, 10)])
    pay(session, paid_off, "100.00", date(2026, 10, 10))
    add_loan(session, "HCF-5003", [date(2026, 12, 10)])


EXPECTED_LATE_LOAN = {
    "dpd_now": 48, "dpd_1_29": 0, "dpd_30_59": 1, "dpd_60_89": 0, "dpd_90_plus": 0,
    "dpd_max_3m": 51, "dpd_max_6m": 65,
    "paid_ratio_3m": 50 / 300,          # due Sep, Oct, Nov 10th: 300; paid 50 on Sep 15th
    "paid_ratio_6m": 350 / 600,         # due Jun..Nov: 600; paid 100 + 100 + 100 + 50
    "returned_payments_6m": 1,          # the returned one; the failed one is older than 6 months
    "promises_broken_6m": 2,            # broken and partly kept; January's is older
    "promises_kept_6m": 1,
    "plan_broken": 1, "plan_active": 0,
    "hardship_income": 1, "hardship_other": 0, "hardship_temporary": 1,   # the latest escalation's cause
    "contacts_delivered_3m": 2, "contacts_not_delivered_3m": 1,         # July's failure is outside 3 months
}


def test_features_from_the_database_match_a_hand_built_loans_history(database):
    with database.unit_of_work() as session:
        build_book(session)
    with database.unit_of_work() as session:
        facts = facts_from_database(session, TODAY)
    assert facts.references == ["HCF-5001", "HCF-5003"]   # HCF-5002 is paid off: not active
    x = feature_matrix(facts)
    assert dict(zip(FEATURES, x[0])) == pytest.approx(EXPECTED_LATE_LOAN)
    quiet = dict(zip(FEATURES, x[1]))
    assert quiet["paid_ratio_3m"] == quiet["paid_ratio_6m"] == 1.0   # nothing fell due yet
    assert sum(value for name, value in quiet.items() if not name.startswith("paid_ratio")) == 0
