"""The risk model's feature vector: one list of features, computed the same way for every source.

A source (the synthetic portfolio, or the database for real loans) first reduces each loan's history to
`LoanFacts` (days past due now and at worst, money due and paid, counts of returned payments, promises,
contacts, plan state, hardship); `feature_matrix` turns facts into the features. The two `facts_from_*`
functions are the only source-specific code, so both sources yield the same features by construction.

Protected attributes (age, sex, nationality, marital status) are not facts and never features.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Integer, case, func, select, type_coerce
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from bot.risk.synthetic import Portfolio

FEATURES: tuple[str, ...] = (
    "dpd_now", "dpd_1_29", "dpd_30_59", "dpd_60_89", "dpd_90_plus", "dpd_max_3m", "dpd_max_6m",
    "paid_ratio_3m", "paid_ratio_6m", "returned_payments_6m",
    "promises_broken_6m", "promises_kept_6m", "plan_broken", "plan_active",
    "hardship_income", "hardship_other", "hardship_temporary",
    "contacts_delivered_3m", "contacts_not_delivered_3m",
)
BINARY_FEATURES = frozenset({"dpd_1_29", "dpd_30_59", "dpd_60_89", "dpd_90_plus", "plan_broken", "plan_active",
                             "hardship_income", "hardship_other", "hardship_temporary"})
# Never features; kept here so a test (and a reader) can check the two lists never meet.
PROTECTED_ATTRIBUTES = frozenset({
    "age", "age_band", "age_years", "date_of_birth", "sex", "gender", "personal_status_sex", "marital_status",
    "nationality", "foreign_worker",
})
INCOME_CAUSES = frozenset({"job_loss", "reduced_income", "business"})

# What each feature means, in words, for reason codes (en, zh).
LABELS: dict[str, tuple[str, str]] = {
    "dpd_now": ("days past due now", "当前逾期天数"),
    "dpd_1_29": ("1-29 days past due now", "当前逾期1-29天"),
    "dpd_30_59": ("30-59 days past due now", "当前逾期30-59天"),
    "dpd_60_89": ("60-89 days past due now", "当前逾期60-89天"),
    "dpd_90_plus": ("90+ days past due now", "当前逾期90天以上"),
    "dpd_max_3m": ("worst days past due in the last 3 months", "近3个月最长逾期天数"),
    "dpd_max_6m": ("worst days past due in the last 6 months", "近6个月最长逾期天数"),
    "paid_ratio_3m": ("share of instalments paid in the last 3 months", "近3个月还款占应还比例"),
    "paid_ratio_6m": ("share of instalments paid in the last 6 months", "近6个月还款占应还比例"),
    "returned_payments_6m": ("returned or failed payments in the last 6 months", "近6个月退回或失败的还款"),
    "promises_broken_6m": ("promises to pay broken in the last 6 months", "近6个月未兑现的还款承诺"),
    "promises_kept_6m": ("promises to pay kept in the last 6 months", "近6个月已兑现的还款承诺"),
    "plan_broken": ("a repayment plan was broken", "曾违反还款计划"),
    "plan_active": ("a repayment plan is in force", "有生效中的还款计划"),
    "hardship_income": ("hardship from lost or reduced income", "因失业或收入减少而困难"),
    "hardship_other": ("hardship for another reason", "因其他原因而困难"),
    "hardship_temporary": ("hardship said to be temporary", "困难被称为暂时的"),
    "contacts_delivered_3m": ("follow-up messages delivered in the last 3 months", "近3个月送达的跟进消息"),
    "contacts_not_delivered_3m": ("follow-up attempts refused or failed in the last 3 months",
                                  "近3个月被拒绝或失败的跟进"),
}


@dataclass
class LoanFacts:
    """Per-loan aggregates of its history, as columns (one entry per loan, in `references` order)."""

    references: list[str]
    dpd_now: np.ndarray
    dpd_max_3m: np.ndarray
    dpd_max_6m: np.ndarray
    due_3m: np.ndarray
    paid_3m: np.ndarray
    due_6m: np.ndarray
    paid_6m: np.ndarray
    returned_6m: np.ndarray
    promises_kept_6m: np.ndarray
    promises_broken_6m: np.ndarray
    plan_active: np.ndarray
    plan_broken: np.ndarray
    hardship_cause: np.ndarray        # str, "" when none recorded
    hardship_temporary: np.ndarray    # bool (unknown counts as not temporary)
    contacts_delivered_3m: np.ndarray
    contacts_not_delivered_3m: np.ndarray

    def __len__(self) -> int:
        return len(self.references)


def _ratio(paid: np.ndarray, due: np.ndarray) -> np.ndarray:
    """Paid over due, 1 when nothing fell due, capped at 2 (a catch-up payment is not twice as good)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(due > 0, paid / np.where(due > 0, due, 1.0), 1.0)
    return np.clip(ratio, 0.0, 2.0)


def feature_matrix(facts: LoanFacts) -> np.ndarray:
    """The features of every loan: shape (len(facts), len(FEATURES)), columns in `FEATURES` order."""
    dpd = facts.dpd_now.astype(float)
    cause = facts.hardship_cause.astype(str)
    income = np.isin(cause, list(INCOME_CAUSES))
    columns = {
        "dpd_now": dpd,
        "dpd_1_29": (dpd >= 1) & (dpd < 30), "dpd_30_59": (dpd >= 30) & (dpd < 60),
        "dpd_60_89": (dpd >= 60) & (dpd < 90), "dpd_90_plus": dpd >= 90,
        "dpd_max_3m": facts.dpd_max_3m, "dpd_max_6m": facts.dpd_max_6m,
        "paid_ratio_3m": _ratio(facts.paid_3m, facts.due_3m), "paid_ratio_6m": _ratio(facts.paid_6m, facts.due_6m),
        "returned_payments_6m": facts.returned_6m,
        "promises_broken_6m": facts.promises_broken_6m, "promises_kept_6m": facts.promises_kept_6m,
        "plan_broken": facts.plan_broken, "plan_active": facts.plan_active,
        "hardship_income": income, "hardship_other": (cause != "") & ~income,
        "hardship_temporary": facts.hardship_temporary,
        "contacts_delivered_3m": facts.contacts_delivered_3m,
        "contacts_not_delivered_3m": facts.contacts_not_delivered_3m,
    }
    return np.column_stack([np.asarray(columns[name], dtype=float) for name in FEATURES])


def facts_from_portfolio(portfolio: Portfolio) -> LoanFacts:
    """Facts of the synthetic borrowers at their "now" month-end (the last observed column)."""
    last3, last6 = slice(-3, None), slice(-6, None)
    return LoanFacts(
        references=list(portfolio.references),
        dpd_now=portfolio.dpd[:, -1], dpd_max_3m=portfolio.dpd[:, last3].max(axis=1),
        dpd_max_6m=portfolio.dpd[:, last6].max(axis=1),
        due_3m=portfolio.due[:, last3].sum(axis=1), paid_3m=portfolio.paid[:, last3].sum(axis=1),
        due_6m=portfolio.due[:, last6].sum(axis=1), paid_6m=portfolio.paid[:, last6].sum(axis=1),
        returned_6m=portfolio.returned[:, last6].sum(axis=1),
        promises_kept_6m=portfolio.promises_kept[:, last6].sum(axis=1),
        promises_broken_6m=portfolio.promises_broken[:, last6].sum(axis=1),
        plan_active=portfolio.plan_active, plan_broken=portfolio.plan_broken,
        hardship_cause=portfolio.hardship_cause, hardship_temporary=portfolio.hardship_temporary,
        contacts_delivered_3m=portfolio.contacts_delivered[:, last3].sum(axis=1),
        contacts_not_delivered_3m=portfolio.contacts_not_delivered[:, last3].sum(axis=1),
    )


def _cents(column):
    """A money column read as its stored integer cents (no Decimal per row: 100,000 loans stay fast)."""
    return type_coerce(column, Integer)


def facts_from_database(session: Session, today: date) -> LoanFacts:
    """Facts of every active loan (scheduled total above what was paid) from the books, as of `today`.

    Set-based: a handful of GROUP BY queries, whatever the number of loans. Days past due come from the
    latest `loan_day_status` snapshot on or before `today` (0 when reconciliation never noted the loan);
    hardship from the latest escalation summary that names the loan.
    """
    from bot.accounts.models import Loan, Payment, PaymentStatus, ScheduledInstalment
    from bot.agreements.models import PromiseToPay
    from bot.handoff.models import Escalation
    from bot.lifecycle.models import LoanDayStatus, PlanStanding
    from bot.outreach.models import ATTEMPT_SENT, ContactAttempt

    d90, d180 = today - timedelta(days=90), today - timedelta(days=180)
    session = session.connection()  # Core rows: no ORM result machinery for 100,000-row aggregates
    schedule = {row[0]: row[1:] for row in session.execute(
        select(ScheduledInstalment.loan_id, func.sum(_cents(ScheduledInstalment.amount)),
               func.sum(case((ScheduledInstalment.due_date.between(d90 + timedelta(days=1), today),
                              _cents(ScheduledInstalment.amount)), else_=0)),
               func.sum(case((ScheduledInstalment.due_date.between(d180 + timedelta(days=1), today),
                              _cents(ScheduledInstalment.amount)), else_=0)))
        .group_by(ScheduledInstalment.loan_id))}
    succeeded = Payment.status == PaymentStatus.SUCCEEDED
    payments = {row[0]: row[1:] for row in session.execute(
        select(Payment.loan_id, func.sum(case((succeeded, _cents(Payment.amount)), else_=0)),
               func.sum(case((succeeded & (Payment.paid_on > d90) & (Payment.paid_on <= today),
                              _cents(Payment.amount)), else_=0)),
               func.sum(case((succeeded & (Payment.paid_on > d180) & (Payment.paid_on <= today),
                              _cents(Payment.amount)), else_=0)),
               func.sum(case((~succeeded & (Payment.paid_on > d180) & (Payment.paid_on <= today), 1), else_=0)))
        .group_by(Payment.loan_id))}
    loans = [(loan_id, reference) for loan_id, reference in session.execute(
        select(Loan.id, Loan.reference).order_by(Loan.id))
        if (schedule.get(loan_id, (0,))[0] or 0) > (payments.get(loan_id, (0,))[0] or 0)]

    worst = {row[0]: row[1:] for row in session.execute(
        select(LoanDayStatus.loan_id,
               func.max(case((LoanDayStatus.as_of > d90, LoanDayStatus.days_past_due), else_=0)),
               func.max(LoanDayStatus.days_past_due))
        .where(LoanDayStatus.as_of > d180, LoanDayStatus.as_of <= today).group_by(LoanDayStatus.loan_id))}
    latest = (select(LoanDayStatus.loan_id, func.max(LoanDayStatus.as_of).label("as_of"))
              .where(LoanDayStatus.as_of <= today).group_by(LoanDayStatus.loan_id).subquery())
    dpd_now = dict(session.execute(
        select(LoanDayStatus.loan_id, LoanDayStatus.days_past_due).join(
            latest, (LoanDayStatus.loan_id == latest.c.loan_id) & (LoanDayStatus.as_of == latest.c.as_of))).all())

    promises: dict[str, list[int]] = {}
    for reference, status, count in session.execute(
            select(PromiseToPay.loan_reference, PromiseToPay.status, func.count())
            .where(PromiseToPay.due_on > d180, PromiseToPay.due_on <= today)
            .group_by(PromiseToPay.loan_reference, PromiseToPay.status)):
        kept_broken = promises.setdefault(reference, [0, 0])
        if status == "kept":
            kept_broken[0] += count
        elif status in ("broken", "partly_kept"):
            kept_broken[1] += count
    plans: dict[str, set[str]] = {}
    for reference, state in session.execute(select(PlanStanding.loan_reference, PlanStanding.state).distinct()):
        plans.setdefault(reference, set()).add(state)
    contacts: dict[str, list[int]] = {}
    for reference, outcome, count in session.execute(
            select(ContactAttempt.loan_reference, ContactAttempt.outcome, func.count())
            .where(ContactAttempt.attempted_at > d90, ContactAttempt.attempted_at < today + timedelta(days=1))
            .group_by(ContactAttempt.loan_reference, ContactAttempt.outcome)):
        contacts.setdefault(reference, [0, 0])[0 if outcome == ATTEMPT_SENT else 1] += count
    hardship: dict[str, tuple[str, bool]] = {}
    for summary_text, in session.execute(
            select(Escalation.summary).where(Escalation.summary.like('%hardship_cause%'))
            .order_by(Escalation.created_at)):
        try:
            summary = json.loads(summary_text or "{}")
        except ValueError:
            continue
        if summary.get("loan_ref") and summary.get("hardship_cause"):
            hardship[summary["loan_ref"]] = (str(summary["hardship_cause"]), summary.get("hardship_temporary") is True)

    def column(values, dtype=float) -> np.ndarray:
        return np.fromiter(values, dtype=dtype, count=len(loans))

    def cents(table, loan_id, index) -> float:
        return (table.get(loan_id, (0, 0, 0, 0))[index] or 0) / 100.0

    return LoanFacts(
        references=[reference for _, reference in loans],
        dpd_now=column(dpd_now.get(i, 0) for i, _ in loans),
        dpd_max_3m=column((worst.get(i) or (0, 0))[0] or 0 for i, _ in loans),
        dpd_max_6m=column((worst.get(i) or (0, 0))[1] or 0 for i, _ in loans),
        due_3m=column(cents(schedule, i, 1) for i, _ in loans), paid_3m=column(cents(payments, i, 1) for i, _ in loans),
        due_6m=column(cents(schedule, i, 2) for i, _ in loans), paid_6m=column(cents(payments, i, 2) for i, _ in loans),
        returned_6m=column((payments.get(i) or (0, 0, 0, 0))[3] or 0 for i, _ in loans),
        promises_kept_6m=column(promises.get(r, (0, 0))[0] for _, r in loans),
        promises_broken_6m=column(promises.get(r, (0, 0))[1] for _, r in loans),
        plan_active=column((bool(plans.get(r, set()) & {"pending", "active", "in_arrears"}) for _, r in loans), bool),
        plan_broken=column((bool(plans.get(r, set()) & {"broken", "lapsed"}) for _, r in loans), bool),
        hardship_cause=np.array([hardship.get(r, ("", False))[0] for _, r in loans], dtype=object),
        hardship_temporary=column((hardship.get(r, ("", False))[1] for _, r in loans), bool),
        contacts_delivered_3m=column(contacts.get(r, (0, 0))[0] for _, r in loans),
        contacts_not_delivered_3m=column(contacts.get(r, (0, 0))[1] for _, r in loans),
    )
