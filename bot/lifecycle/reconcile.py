"""Reconciliation: after each payments feed and on a schedule, bring the books' consequences up to date.

For each loan in scope: re-apply its payments by the policy's rule (the stored allocations), note its arrears
and days past due for the day, judge its open promises and its plans (`bot.lifecycle.judge`), and record
every change of state as an `AccountEvent` with its cause. Running it twice on the same day changes nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from bot.accounts.arrears import ArrearsStatement
from bot.accounts.models import Loan, PaymentStatus
from bot.accounts.repository import AccountRepository, LoanBooks, statement_of
from bot.agreements.models import Agreement, PromiseToPay
from bot.lifecycle.judge import (
    BROKEN, FINAL_PLAN_STATES, OPEN, PARTLY_KEPT, PLAN_BROKEN, SUPERSEDED, Paid, PlanRow, judge_plan, judge_promise,
)
from bot.lifecycle.models import AccountEvent, LoanDayStatus, PaymentAllocation, PlanStanding
from bot.negotiation.policy import Policy
from bot.storage import Database


@dataclass
class ReconcileReport:
    loans: int = 0
    allocations: int = 0
    changes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"reconciled {self.loans} loans, {self.allocations} allocation lines, "
                f"{len(self.changes)} changes of state", *self.changes]


def payment_key(payment) -> str:
    """How events and verdicts name a payment: the lender's id, or ours when it has none."""
    return payment.external_id or f"#{payment.id}"


@dataclass(frozen=True)
class Change:
    reference: str
    subject: str
    subject_id: str
    before: str | None
    after: str
    cause: str
    cause_ref: str

    def __str__(self) -> str:
        return (f"{self.reference} {self.subject} {self.subject_id}: {self.before or 'new'} -> {self.after} "
                f"({self.cause} {self.cause_ref})")


def _event(session: Session, *, reference: str, subject: str, subject_id: str, before: str | None, after: str,
           cause: str, cause_ref: str, occurred_on: date, now: datetime, detail: dict) -> Change:
    session.add(AccountEvent(
        loan_reference=reference, subject=subject, subject_id=subject_id, from_state=before, to_state=after,
        cause=cause, cause_ref=cause_ref[:120], detail=json.dumps(detail, default=str), occurred_on=occurred_on,
        recorded_at=now))
    return Change(reference, subject, subject_id, before, after, cause, cause_ref)


def _reallocate(session: Session, books: LoanBooks, policy: Policy) -> int:
    order = policy.payments.within_instalment
    rule = f"payments.within_instalment={'/'.join(order)} (policy {policy.version})"[:80]
    session.execute(delete(PaymentAllocation).where(PaymentAllocation.loan_id == books.loan.id))
    charge_ids = {c.id for c in books.charges}
    shares = books.shares(order)
    session.add_all(PaymentAllocation(
        payment_id=share.payment, loan_id=books.loan.id,
        instalment_id=share.instalment, charge_id=share.charge if share.charge in charge_ids else None,
        component=share.component, amount=share.amount, rule=rule) for share in shares)
    return len(shares)


def _note_day(session: Session, books: LoanBooks, policy: Policy, today: date) -> ArrearsStatement:
    statement = statement_of(books, today, policy.payments.within_instalment)
    row = session.execute(select(LoanDayStatus).where(
        LoanDayStatus.loan_id == books.loan.id, LoanDayStatus.as_of == today)).scalar_one_or_none()
    if row is None:
        session.add(LoanDayStatus(loan_id=books.loan.id, as_of=today, arrears=statement.arrears,
                                  days_past_due=statement.days_past_due))
    else:
        row.arrears, row.days_past_due = statement.arrears, statement.days_past_due
    return statement


def _paid(books: LoanBooks) -> list[Paid]:
    return [Paid(payment_key(p), p.amount, p.paid_on) for p in books.payments if p.status == PaymentStatus.SUCCEEDED]


def _promises(session: Session, books: LoanBooks, receipts: list[Paid], policy: Policy, today: date,
              now: datetime) -> list[Change]:
    changes = []
    promises = session.execute(select(PromiseToPay).where(
        PromiseToPay.loan_reference == books.loan.reference, PromiseToPay.status == OPEN)).scalars().all()
    for promise in promises:
        verdict = judge_promise(amount=promise.amount, given_on=promise.recorded_at.date(), due_on=promise.due_on,
                                payments=receipts, today=today, rules=policy.lifecycle, version=policy.version)
        promise.paid = verdict.paid
        if verdict.state != OPEN:
            promise.status, promise.settled_at = verdict.state, now
            changes.append(_event(
                session, reference=books.loan.reference, subject="promise", subject_id=str(promise.id),
                before=OPEN, after=verdict.state, cause=verdict.cause, cause_ref=verdict.cause_ref,
                occurred_on=verdict.occurred_on, now=now,
                detail={"amount": promise.amount, "due_on": promise.due_on, "paid": verdict.paid}))
    return changes


def _plans(session: Session, books: LoanBooks, receipts: list[Paid], policy: Policy, today: date,
           now: datetime) -> list[Change]:
    changes = []
    agreements = session.execute(select(Agreement).where(Agreement.loan_reference == books.loan.reference)
                                 .order_by(Agreement.accepted_at, Agreement.id)).scalars().all()
    standings = {s.agreement_id: s for s in session.execute(select(PlanStanding).where(
        PlanStanding.loan_reference == books.loan.reference)).scalars()}
    for position, agreement in enumerate(agreements):
        standing = standings.get(agreement.id)
        if standing is not None and standing.state in FINAL_PLAN_STATES:
            continue
        newer = agreements[position + 1] if position + 1 < len(agreements) else None
        if newer is not None:  # a later agreement replaced this plan
            verdict_state, cause, cause_ref, on = SUPERSEDED, "rule", f"agreement {newer.reference}", \
                newer.accepted_at.date()
            paid, due = (standing.paid, standing.due) if standing else (Decimal("0.00"), Decimal("0.00"))
        else:
            terms = json.loads(agreement.terms_json)["terms"]
            verdict = judge_plan(
                schedule=[PlanRow(int(r["number"]), date.fromisoformat(r["due"]), Decimal(r["amount"]))
                          for r in terms["schedule"]],
                agreed_on=agreement.accepted_at.date(), payments=receipts, today=today,
                rules=policy.lifecycle, version=policy.version)
            verdict_state, cause, cause_ref, on = verdict.state, verdict.cause, verdict.cause_ref, verdict.occurred_on
            paid, due = verdict.paid, verdict.due
        before = standing.state if standing is not None else None
        if standing is None:
            standing = PlanStanding(agreement_id=agreement.id, loan_reference=books.loan.reference,
                                    state=verdict_state, paid=paid, due=due, changed_at=now)
            session.add(standing)
        else:
            standing.paid, standing.due = paid, due
        if before != verdict_state:
            standing.state, standing.changed_at = verdict_state, now
            changes.append(_event(
                session, reference=books.loan.reference, subject="agreement", subject_id=agreement.reference,
                before=before, after=verdict_state, cause=cause, cause_ref=cause_ref, occurred_on=on, now=now,
                detail={"paid": paid, "due": due}))
    return changes


def _hand_over(session: Session, books: LoanBooks, statement: ArrearsStatement, now: datetime,
               reason: str, why: str) -> str:
    """Put the account in the agents' queue, on the conversation where the broken promise or plan was made."""
    from bot.handoff.queue import EscalationQueue
    from bot.handoff.triggers import trigger_for

    last = session.execute(
        select(PromiseToPay.conversation_id, PromiseToPay.recorded_at).where(
            PromiseToPay.loan_reference == books.loan.reference)
        .union_all(select(Agreement.conversation_id, Agreement.accepted_at).where(
            Agreement.loan_reference == books.loan.reference))
        .order_by(text("2 DESC")).limit(1)).first()
    trigger = trigger_for(None, reason)
    EscalationQueue(session).open(
        conversation_id=last[0], channel=None, reason=trigger.reason, priority=trigger.priority,
        summary={"verified": True, "loan_ref": books.loan.reference, "triggered_by": "reconciliation",
                 "reconciliation": why, "arrears": str(statement.arrears), "currency": statement.currency,
                 "days_past_due": statement.days_past_due,
                 "outstanding_balance": str(statement.outstanding_balance)},
        language=books.loan.borrower.preferred_language if books.loan.borrower else "en", now=now)
    return f"{books.loan.reference}: handed to a person ({reason}) on conversation {last[0]}"


def reconcile_loan(session: Session, books: LoanBooks, policy: Policy, today: date, now: datetime,
                   report: ReconcileReport) -> None:
    report.loans += 1
    report.allocations += _reallocate(session, books, policy)
    statement = _note_day(session, books, policy, today)
    receipts = _paid(books)  # the succeeded payments, read once for every promise and plan of the loan
    promises = _promises(session, books, receipts, policy, today, now)
    plans = _plans(session, books, receipts, policy, today, now)
    report.changes += [str(change) for change in promises + plans]
    # The consequences the policy names: a person takes over once promises are broken past the limit, or a
    # plan breaks (a default voids the plan).
    broke_plan = next((change for change in plans if change.after == PLAN_BROKEN), None)
    if broke_plan is not None:
        report.changes.append(_hand_over(session, books, statement, now, "plan_broken", str(broke_plan)))
    elif any(change.after in (BROKEN, PARTLY_KEPT) for change in promises):
        broken = session.execute(select(func.count()).select_from(PromiseToPay).where(
            PromiseToPay.loan_reference == books.loan.reference,
            PromiseToPay.status.in_((BROKEN, PARTLY_KEPT)))).scalar_one()
        if broken >= policy.anti_stalling.broken_promises_limit:
            why = f"{broken} promises not kept (anti_stalling.broken_promises_limit={policy.anti_stalling.broken_promises_limit})"
            report.changes.append(_hand_over(session, books, statement, now, "broken_promises", why))


def loans_to_watch(session: Session) -> list[str]:
    """Loans whose promises or plans may still change: the scheduled run's scope."""
    open_promises = select(PromiseToPay.loan_reference).where(PromiseToPay.status == OPEN)
    live_plans = select(Agreement.loan_reference).outerjoin(
        PlanStanding, PlanStanding.agreement_id == Agreement.id).where(
        (PlanStanding.id.is_(None)) | (PlanStanding.state.not_in(FINAL_PLAN_STATES)))
    return sorted(set(session.execute(open_promises).scalars()) | set(session.execute(live_plans).scalars()))


def reconcile(database: Database, policy: Policy, *, today: date, now: datetime,
              references: Iterable[str] | None = None) -> ReconcileReport:
    """Reconcile `references` (default: every loan with an open promise or a live plan), one
    transaction per loan, so one bad loan cannot hold back the others' consequences."""
    report = ReconcileReport()
    if references is None:
        with database.unit_of_work() as session:
            references = loans_to_watch(session)
    for reference in sorted(set(references)):
        with database.unit_of_work() as session:
            # One reconciler per loan at a time (PostgreSQL row lock; SQLite has one writer anyway).
            session.execute(select(Loan.id).where(Loan.reference == reference).with_for_update())
            books = AccountRepository(session, policy.payments.within_instalment).books(reference)
            if books is not None:
                reconcile_loan(session, books, policy, today, now, report)
    return report

