"""What an agent reads about a loan while handling an escalation: the borrower's promises, the
plans they agreed with where each stands, the latest payments and how each was applied, and the
latest changes of state with their causes.

Read-only and framework-free: one function reads the books inside the caller's unit of work and
returns plain frozen dataclasses (money as `Decimal`, dates as `date`); wording, labels and
formatting belong to whoever shows them. Nothing here carries a conversation id: on the web widget
that id is the borrower's credential, and agreements and promises store it.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.accounts.models import Loan, Payment
from bot.agreements.models import Agreement, PromiseToPay
from bot.lifecycle.models import AccountEvent, PaymentAllocation, PlanStanding
from bot.lifecycle.reconcile import payment_key

RECENT_PAYMENTS = 20
RECENT_CHANGES = 20
RECENT_PROMISES = 50
RECENT_PLANS = 20
OPEN = "open"
# The order a payment's parts are listed in: charges first, as the allocation rule pays them.
COMPONENT_ORDER = ("fee", "late_fee", "penalty_interest", "interest", "principal", "unapplied")


@dataclass(frozen=True)
class PromiseLine:
    id: int                     # what state changes name it by
    amount: Decimal
    due_on: date
    status: str                 # open | kept | partly_kept | broken
    paid: Decimal               # towards it, as reconciliation last found
    recorded_at: datetime
    settled_at: datetime | None


@dataclass(frozen=True)
class Standing:
    state: str                  # pending | active | in_arrears | broken | lapsed | completed
    paid: Decimal               # paid towards the plan since it was agreed
    due: Decimal                # what the plan asked for by the day of the last reconciliation
    changed_at: datetime


@dataclass(frozen=True)
class NextInstalment:
    number: int
    amount: Decimal
    due: date


@dataclass(frozen=True)
class PlanLine:
    """A signed agreement; `standing` is None until reconciliation has looked at it."""

    reference: str
    accepted_at: datetime
    monthly: Decimal | None
    months: int | None
    total: Decimal | None       # the schedule's sum
    first_due: date | None
    last_due: date | None
    concessions: tuple[str, ...]
    next_instalment: NextInstalment | None
    standing: Standing | None


@dataclass(frozen=True)
class Share:
    component: str              # fee | penalty_interest | interest | principal | unapplied
    amount: Decimal


@dataclass(frozen=True)
class PaymentLine:
    reference: str              # the lender's payment id, or "#<our id>": how state changes name it
    amount: Decimal
    paid_on: date
    status: str                 # succeeded | failed | returned
    source: str | None
    received_at: datetime | None
    note: str | None
    allocations: tuple[Share, ...]  # summed per component, in COMPONENT_ORDER


@dataclass(frozen=True)
class StateChange:
    subject: str                # promise | agreement | payment | loan
    subject_id: str
    from_state: str | None
    to_state: str
    cause: str                  # payment | rule | feed | operator
    cause_ref: str
    occurred_on: date
    recorded_at: datetime


@dataclass(frozen=True)
class AccountBooks:
    loan_reference: str
    currency: str
    promises: tuple[PromiseLine, ...]      # newest first
    plans: tuple[PlanLine, ...]            # newest first; the first is the plan in force
    payments: tuple[PaymentLine, ...]      # latest first, at most RECENT_PAYMENTS
    payments_total: int
    changes: tuple[StateChange, ...]       # latest first, at most RECENT_CHANGES
    changes_total: int

    @property
    def current_plan(self) -> PlanLine | None:
        """The newest agreement: a later agreement replaces the earlier ones."""
        return self.plans[0] if self.plans else None

    @property
    def open_promises(self) -> tuple[PromiseLine, ...]:
        """Promises still open, the soonest due first."""
        return tuple(sorted((p for p in self.promises if p.status == OPEN), key=lambda p: p.due_on))


def account_books(session: Session, loan_reference: str, today: date, *, payments: int = RECENT_PAYMENTS,
                  changes: int = RECENT_CHANGES) -> AccountBooks | None:
    """The loan's promises, plans, latest payments and latest changes of state; None for an unknown loan."""
    loan = session.execute(select(Loan).where(Loan.reference == loan_reference)).scalar_one_or_none()
    if loan is None:
        return None
    payment_rows = session.execute(
        select(Payment).where(Payment.loan_id == loan.id)
        .order_by(Payment.paid_on.desc(), Payment.id.desc()).limit(payments)
    ).scalars().all()
    event_rows = session.execute(
        select(AccountEvent).where(AccountEvent.loan_reference == loan_reference)
        .order_by(AccountEvent.recorded_at.desc(), AccountEvent.id.desc()).limit(changes)
    ).scalars().all()
    return AccountBooks(
        loan_reference=loan_reference,
        currency=loan.currency,
        promises=_promises(session, loan_reference),
        plans=_plans(session, loan_reference, today),
        payments=_payments(session, payment_rows),
        payments_total=_count(session, select(func.count(Payment.id)).where(Payment.loan_id == loan.id)),
        changes=tuple(StateChange(
            subject=e.subject, subject_id=e.subject_id, from_state=e.from_state, to_state=e.to_state,
            cause=e.cause, cause_ref=e.cause_ref, occurred_on=e.occurred_on, recorded_at=e.recorded_at,
        ) for e in event_rows),
        changes_total=_count(session, select(func.count(AccountEvent.id))
                             .where(AccountEvent.loan_reference == loan_reference)),
    )


def _count(session: Session, query) -> int:
    return int(session.execute(query).scalar_one())


def _promises(session: Session, loan_reference: str) -> tuple[PromiseLine, ...]:
    rows = session.execute(
        select(PromiseToPay).where(PromiseToPay.loan_reference == loan_reference)
        .order_by(PromiseToPay.recorded_at.desc(), PromiseToPay.id.desc()).limit(RECENT_PROMISES)
    ).scalars().all()
    return tuple(PromiseLine(id=p.id, amount=p.amount, due_on=p.due_on, status=p.status, paid=p.paid or Decimal("0.00"),
                             recorded_at=p.recorded_at, settled_at=p.settled_at) for p in rows)


def _plans(session: Session, loan_reference: str, today: date) -> tuple[PlanLine, ...]:
    rows = session.execute(
        select(Agreement, PlanStanding).outerjoin(PlanStanding, PlanStanding.agreement_id == Agreement.id)
        .where(Agreement.loan_reference == loan_reference)
        .order_by(Agreement.accepted_at.desc(), Agreement.id.desc()).limit(RECENT_PLANS)
    ).all()
    return tuple(_plan_line(agreement, standing, today) for agreement, standing in rows)


def _plan_line(agreement: Agreement, standing: PlanStanding | None, today: date) -> PlanLine:
    terms = _terms(agreement.terms_json)
    schedule = [row for row in terms.get("schedule") or [] if isinstance(row, dict)]
    dues = [d for d in (_date(row.get("due")) for row in schedule) if d is not None]
    amounts = [_decimal(row.get("amount")) for row in schedule]
    upcoming = sorted(((d, row) for row in schedule if (d := _date(row.get("due"))) is not None and d >= today),
                      key=lambda pair: pair[0])
    next_instalment = None
    if upcoming and _decimal(upcoming[0][1].get("amount")) is not None:
        due, row = upcoming[0]
        next_instalment = NextInstalment(number=_int(row.get("number")) or 0,
                                         amount=_decimal(row.get("amount")), due=due)
    concessions = terms.get("concessions") or ()
    return PlanLine(
        reference=agreement.reference,
        accepted_at=agreement.accepted_at,
        monthly=_decimal(terms.get("monthly")),
        months=_int(terms.get("months")),
        total=sum(amounts, Decimal("0.00")) if amounts and None not in amounts else None,
        first_due=min(dues) if dues else None,
        last_due=max(dues) if dues else None,
        concessions=tuple(str(c) for c in concessions) if isinstance(concessions, list) else (),
        next_instalment=next_instalment,
        standing=None if standing is None else Standing(state=standing.state, paid=standing.paid, due=standing.due,
                                                         changed_at=standing.changed_at),
    )


def _payments(session: Session, rows: list[Payment]) -> tuple[PaymentLine, ...]:
    shares: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: Decimal("0.00")))
    if rows:
        for allocation in session.execute(
            select(PaymentAllocation).where(PaymentAllocation.payment_id.in_([p.id for p in rows]))
        ).scalars():
            shares[allocation.payment_id][allocation.component] += allocation.amount
    return tuple(PaymentLine(
        reference=payment_key(p), amount=p.amount, paid_on=p.paid_on,
        status=getattr(p.status, "value", str(p.status)), source=p.source, received_at=p.received_at,
        note=p.note, allocations=_ordered_shares(shares.get(p.id, {})),
    ) for p in rows)


def _ordered_shares(by_component: dict[str, Decimal]) -> tuple[Share, ...]:
    def rank(component: str) -> tuple[int, str]:
        return (COMPONENT_ORDER.index(component) if component in COMPONENT_ORDER else len(COMPONENT_ORDER),
                component)
    return tuple(Share(component, by_component[component]) for component in sorted(by_component, key=rank))


# Agreements are frozen JSON written by earlier versions too: read them leniently, never fail the page.
def _terms(terms_json: str) -> dict[str, Any]:
    try:
        record = json.loads(terms_json or "{}")
    except ValueError:
        return {}
    terms = record.get("terms") if isinstance(record, dict) else None
    return terms if isinstance(terms, dict) else {}


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
