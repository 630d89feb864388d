"""What an agreed plan asks of the borrower next, read from the signed agreement itself.

Until the payments feed exists (issue 12) nothing records which instalments were paid, so
"next" is the first instalment due today or later; before the first due date that is the
first instalment.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.agreements.models import Agreement


@dataclass(frozen=True)
class PlanPosition:
    reference: str
    currency: str
    monthly: Decimal
    months: int
    number: int          # the next instalment's number, 1-based
    next_amount: Decimal
    next_due: date


def plan_position(agreement: Agreement, today: date) -> PlanPosition | None:
    """The plan's next instalment as of `today`; None once the last one is past."""
    record = json.loads(agreement.terms_json)
    terms = record["terms"]
    upcoming = [row for row in terms["schedule"] if date.fromisoformat(row["due"]) >= today]
    if not upcoming:
        return None
    row = upcoming[0]
    return PlanPosition(
        reference=agreement.reference, currency=record.get("currency", "CNY"), monthly=Decimal(terms["monthly"]),
        months=int(terms["months"]), number=int(row["number"]), next_amount=Decimal(row["amount"]),
        next_due=date.fromisoformat(row["due"]),
    )
