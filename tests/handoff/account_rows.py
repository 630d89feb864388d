"""Account rows as the lifecycle code writes them (promises, agreements and their standing,
payments and their allocations, state changes), for the console's account panel tests."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

from bot.accounts.models import Borrower, Loan, Payment, PaymentStatus
from bot.agreements.models import Agreement, PromiseToPay
from bot.handoff.queue import EscalationQueue
from bot.lifecycle.models import AccountEvent, PaymentAllocation, PlanStanding
from bot.outreach.models import (
    ATTEMPT_REFUSED, ATTEMPT_SENT, DROPPED, SCHEDULED, SENT, Contact, ContactAttempt,
)

LOAN = "HCF-9001"
CONVERSATION = "web:" + "ab" * 32  # the borrower's widget credential: never in a console response
D = Decimal


def loan(session, reference: str = LOAN, currency: str = "CNY") -> Loan:
    borrower = Borrower(full_name="Wang Fang", date_of_birth=date(1992, 11, 3), preferred_language="zh")
    row = Loan(reference=reference, borrower=borrower, currency=currency, principal=D("20000.00"),
               annual_rate=D("0.156000"), contractual_instalment=D("1200.00"), start_date=date(2025, 1, 5))
    session.add(row)
    session.flush()
    return row


def agreement(session, reference: str, accepted_at: datetime, *, monthly: str = "400.00", months: int = 3,
              first_due: date | None = None, standing: tuple[str, str, str] | None = None,
              standing_since: datetime | None = None) -> Agreement:
    first_due = first_due or accepted_at.date() + timedelta(days=7)
    schedule = [{"number": n + 1, "due": (first_due + timedelta(days=30 * n)).isoformat(), "amount": monthly,
                 "principal": monthly, "interest": "0.00"} for n in range(months)]
    terms = {"monthly": monthly, "months": months, "schedule": schedule, "concessions": ["term_extension"],
             "policy_version": "2026.1"}
    row = Agreement(reference=reference, loan_reference=LOAN, conversation_id=CONVERSATION, borrower_name="Wang Fang",
                    language="zh", policy_version="2026.1", acceptance_text="I agree",
                    terms_json=json.dumps({"loan_reference": LOAN, "currency": "CNY", "conversation_id": CONVERSATION,
                                           "terms": terms}),
                    accepted_at=accepted_at)
    session.add(row)
    session.flush()
    if standing:
        state, paid, due = standing
        session.add(PlanStanding(agreement_id=row.id, loan_reference=LOAN, state=state, paid=D(paid), due=D(due),
                                 changed_at=standing_since or accepted_at + timedelta(days=20)))
    return row


def promise(session, amount: str, due_on: date, status: str, recorded_at: datetime, paid: str = "0.00") -> int:
    settled_at = None if status == "open" else datetime.combine(due_on + timedelta(days=1), datetime.min.time())
    row = PromiseToPay(conversation_id=CONVERSATION, loan_reference=LOAN, amount=D(amount), due_on=due_on,
                       status=status, paid=D(paid), recorded_at=recorded_at, settled_at=settled_at)
    session.add(row)
    session.flush()
    return row.id


def payment(session, loan_row: Loan, external_id: str, amount: str, paid_on: date, status: PaymentStatus,
            note: str | None = None, shares: dict[str, str] | None = None) -> Payment:
    row = Payment(external_id=external_id, loan_id=loan_row.id, amount=D(amount), paid_on=paid_on, status=status,
                  note=note, source="feed", received_at=datetime.combine(paid_on, datetime.min.time()))
    session.add(row)
    session.flush()
    for component, share in (shares or {}).items():
        session.add(PaymentAllocation(payment_id=row.id, loan_id=loan_row.id, component=component, amount=D(share),
                                      rule="payments.v1"))
    return row


def event(session, subject: str, subject_id: str, from_state: str | None, to_state: str, cause: str, cause_ref: str,
          on: date) -> None:
    session.add(AccountEvent(loan_reference=LOAN, subject=subject, subject_id=subject_id, from_state=from_state,
                             to_state=to_state, cause=cause, cause_ref=cause_ref, occurred_on=on,
                             recorded_at=datetime.combine(on, datetime.min.time()) + timedelta(hours=2)))


def verified_escalation(database, loan_ref: str | None = LOAN, conversation: str = CONVERSATION) -> int:
    summary = {"verified": loan_ref is not None, "language": "zh"}
    if loan_ref:
        summary["loan_ref"] = loan_ref
    with database.unit_of_work() as session:
        opened, _ = EscalationQueue(session).open(conversation_id=conversation, channel="socketio",
                                                  reason="request_human", priority=3, summary=summary,
                                                  language="zh", now=datetime(2026, 11, 28))
        return opened.id


def fill_books(session, today: date) -> Loan:
    """A loan in the middle of its second plan, dated around `today`: the plan in arrears (paid 400.00 of
    1,200.00 due), promises in every state, a returned payment (with markup in its note), allocations,
    and the changes of state that led here."""
    def day(offset: int) -> date:
        return today + timedelta(days=offset)

    def at(offset: int, hour: int = 10) -> datetime:
        return datetime.combine(day(offset), datetime.min.time()) + timedelta(hours=hour)

    loan_row = loan(session)
    agreement(session, "AGR-20260301-OLD001", at(-270), standing=("broken", "400.00", "1200.00"))
    agreement(session, "AGR-20260901-CUR002", at(-90), monthly="600.00", months=6, first_due=day(-40),
              standing=("in_arrears", "400.00", "1200.00"), standing_since=at(-9, hour=2))
    promise(session, "500.00", day(6), "open", at(-11))
    partly_kept = promise(session, "300.00", day(-47), "partly_kept", at(-61), paid="100.00")
    promise(session, "300.00", day(-108), "kept", at(-122), paid="300.00")
    promise(session, "250.00", day(-169), "broken", at(-183))
    payment(session, loan_row, "PAY-1", "600.00", day(-100), PaymentStatus.SUCCEEDED,
            shares={"principal": "350.00", "interest": "200.00", "fee": "50.00"})
    payment(session, loan_row, "PAY-2", "400.00", day(-26), PaymentStatus.RETURNED,
            note="<script>window.__pwned=1</script> bank reversal")
    payment(session, loan_row, "PAY-3", "400.00", day(-19), PaymentStatus.SUCCEEDED,
            shares={"interest": "150.00", "principal": "200.00", "unapplied": "50.00"})
    event(session, "agreement", "AGR-20260901-CUR002", None, "pending", "rule", "lifecycle.plan_signed@2026.1",
          day(-90))
    event(session, "promise", str(partly_kept), "open", "partly_kept", "rule", "lifecycle.promise_grace_days@2026.1", day(-44))
    event(session, "payment", "PAY-2", "succeeded", "returned", "feed", "PAY-2", day(-23))
    event(session, "agreement", "AGR-20260901-CUR002", "active", "in_arrears", "rule",
          "lifecycle.plan_arrears_after_days@2026.1", day(-9))
    return loan_row


def contact(session, key: str, reason: str, due_at: datetime, *, status: str = SCHEDULED, channel: str = "telegram",
            time_zone: str | None = "Asia/Shanghai", attempts: list[tuple[datetime, str, str | None]] = (),
            outcome: str | None = None) -> Contact:
    """One scheduled contact as the planner writes it, with the scheduler's attempts (at, outcome, rule)."""
    row = Contact(key=key, loan_reference=LOAN, conversation_id=CONVERSATION, channel=channel, reason=reason,
                  subject=key.rsplit(":", 2)[0], language="zh", time_zone=time_zone, jurisdiction="CN",
                  due_at=due_at, status=status, attempts=len(attempts), outcome=outcome,
                  sent_at=attempts[-1][0] if status == SENT else None, created_at=due_at - timedelta(days=3))
    session.add(row)
    session.flush()
    for at, result, rule in attempts:
        session.add(ContactAttempt(contact_id=row.id, loan_reference=LOAN, conversation_id=CONVERSATION,
                                   channel=channel, attempted_at=at, outcome=result, rule=rule))
    session.flush()
    return row


def fill_outreach(session, now: datetime) -> None:
    """A loan's follow-up around `now` (naive UTC): two contacts ahead (one moved out of quiet hours, one
    for a borrower whose zone is unknown) and, behind, one sent, one dropped by a rule, one no longer due."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    contact(session, "promise:1:before:1", "promise_reminder", hour + timedelta(hours=5),
            attempts=[(hour - timedelta(hours=2), ATTEMPT_REFUSED, "quiet_hours:CN")])
    contact(session, "agreement:AGR-20260901-CUR002:3:before:3", "instalment_reminder", hour + timedelta(days=17),
            channel="socketio", time_zone=None)
    contact(session, "promise:2:before:1", "promise_reminder", hour - timedelta(days=3), status=SENT,
            attempts=[(hour - timedelta(days=3), ATTEMPT_SENT, None)])
    contact(session, "promise:2:missed", "missed_promise", hour - timedelta(days=1), status=DROPPED,
            attempts=[(hour - timedelta(days=1), ATTEMPT_REFUSED, "handoff_open")], outcome="handoff_open")
    contact(session, "promise:3:before:1", "promise_reminder", hour - timedelta(days=5), status=DROPPED,
            outcome="no longer due")
