"""The payments feed: payments, returns and reversals as the lender's systems report them, after set-up.

Rows use the payments file's columns (docs/data-format.md) and its validation. A feed is all or nothing:
one rejected row and nothing is written. Each payment id is recorded once: the same row again is a
duplicate (no change), the same payment with a new status (credited -> returned) changes its status, and
the same id with another loan, amount or date is rejected as a conflict. The loans touched are then
reconciled, so promises and plans move at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, Mapping

from sqlalchemy import select

from bot.accounts.models import Loan, Payment, ScheduledInstalment
from bot.books.format import CellError, read_payment
from bot.lifecycle.models import AccountEvent
from bot.lifecycle.reconcile import ReconcileReport, reconcile
from bot.negotiation.policy import Policy
from bot.storage import Database

MAX_FEED_ROWS = 5000


@dataclass(frozen=True)
class FeedRejection:
    row: int       # 1-based position in the feed (line for a file)
    column: str
    reason: str


@dataclass
class FeedResult:
    recorded: int = 0
    duplicates: int = 0
    changed: int = 0
    rejections: list[FeedRejection] = field(default_factory=list)
    reconciliation: ReconcileReport | None = None

    @property
    def accepted(self) -> bool:
        return not self.rejections

    def summary(self) -> dict:
        return {"recorded": self.recorded, "duplicates": self.duplicates, "status_changed": self.changed,
                "rejected": [{"row": r.row, "column": r.column, "reason": r.reason} for r in self.rejections],
                "changes_of_state": self.reconciliation.changes if self.reconciliation else []}


def _read(session, row: Mapping[str, str | None], loans: dict[str, Loan | None]) -> dict:
    if not isinstance(row, Mapping) or not all(isinstance(v, str) or v is None for v in row.values()):
        raise CellError("", "a payment's values must be text (money and dates as strings, never JSON numbers)")
    row = {key: value or "" for key, value in row.items()}
    reference = (row.get("loan_reference") or "").strip()
    if reference not in loans:
        loans[reference] = session.execute(select(Loan).where(Loan.reference == reference)).scalar_one_or_none()
    loan = loans[reference]
    if loan is None:
        raise CellError("loan_reference", f"unknown loan {reference!r}")
    record = read_payment(row, loan.currency)
    record["loan"] = loan
    return record


def record_payments(database: Database, policy: Policy, rows: Iterable[tuple[int, Mapping[str, str] | CellError]],
                    *, now: datetime, today: date, dry_run: bool = False,
                    max_rows: int | None = MAX_FEED_ROWS) -> FeedResult:
    """Validate every row, recording each while none has been rejected, in one transaction that is rolled
    back if any is (or on `dry_run`); then reconcile the loans touched. Rows are streamed."""
    result = FeedResult()
    touched: set[str] = set()
    with database.unit_of_work() as session:
        loans: dict[str, Loan | None] = {}
        seen: dict[str, int] = {}
        for count, (position, row) in enumerate(rows, start=1):
            if max_rows is not None and count > max_rows:
                result.rejections.append(FeedRejection(position, "", f"more than {max_rows} payments in one feed"))
                break
            try:
                if isinstance(row, CellError):
                    raise row
                record = _read(session, row, loans)
                if record["external_id"] in seen:
                    raise CellError("payment_id", f"duplicate payment_id {record['external_id']} in this feed "
                                                  f"(first at {seen[record['external_id']]})")
                seen[record["external_id"]] = position
                if not result.rejections:
                    _apply(session, record, now=now, result=result)
                    touched.add(record["loan"].reference)
            except CellError as error:
                result.rejections.append(FeedRejection(position, error.column, error.reason))
        if result.rejections:
            session.rollback()
            result.recorded = result.duplicates = result.changed = 0
            return result
        if dry_run:  # the counts say what would happen
            session.rollback()
            return result
    result.reconciliation = reconcile(database, policy, today=today, now=now, references=touched)
    return result


def _apply(session, record: dict, *, now: datetime, result: FeedResult) -> None:
    loan: Loan = record["loan"]
    instalment_id = None
    if record["number"] is not None:
        instalment_id = session.execute(select(ScheduledInstalment.id).where(
            ScheduledInstalment.loan_id == loan.id, ScheduledInstalment.number == record["number"])).scalar()
        if instalment_id is None:
            raise CellError("instalment_number", f"{loan.reference} has no instalment {record['number']}")
    existing = session.execute(select(Payment).where(Payment.external_id == record["external_id"])
                               ).scalar_one_or_none()
    if existing is None:
        session.add(Payment(external_id=record["external_id"], loan_id=loan.id, instalment_id=instalment_id,
                            amount=record["amount"], paid_on=record["paid_on"], status=record["status"],
                            note=record["note"], source="feed", received_at=now))
        session.flush()
        result.recorded += 1
        return
    if (existing.loan_id, existing.amount, existing.paid_on) != (loan.id, record["amount"], record["paid_on"]):
        raise CellError("payment_id", f"payment {record['external_id']} was recorded with loan/amount/date "
                                      f"{loan.reference if existing.loan_id == loan.id else 'another loan'}/"
                                      f"{existing.amount}/{existing.paid_on}: a payment id cannot change them")
    if existing.status == record["status"]:
        result.duplicates += 1
        return
    before = existing.status.value
    existing.status = record["status"]
    existing.received_at = now
    result.changed += 1
    session.add(AccountEvent(
        loan_reference=loan.reference, subject="payment", subject_id=record["external_id"], from_state=before,
        to_state=record["status"].value, cause="feed", cause_ref=(record["note"] or "payments feed")[:120],
        detail=None, occurred_on=record["paid_on"], recorded_at=now))
