"""What is overdue on a loan today, computed from its schedule, payments and charges.

Pure functions over plain data: the repository turns rows into these inputs.
What each instalment and charge has been paid comes from the allocation of
payments (`bot.lifecycle.allocation`); failed and returned payments pay nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class InstalmentLine:
    number: int
    due: date
    amount: Decimal
    principal: Decimal
    interest: Decimal
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO

    @property
    def paid(self) -> Decimal:
        return self.principal_paid + self.interest_paid


@dataclass(frozen=True)
class ChargeLine:
    kind: str  # "late_fee" | "penalty_interest"
    amount: Decimal
    waived: bool
    paid: Decimal = ZERO


@dataclass(frozen=True)
class ArrearsStatement:
    """Everything the borrower may be told about a loan once verified."""

    loan_reference: str
    currency: str
    annual_rate: Decimal
    contractual_instalment: Decimal
    missed_instalments: tuple[InstalmentLine, ...]
    missed_amount: Decimal
    late_fees: Decimal
    penalty_interest: Decimal
    arrears: Decimal
    days_past_due: int
    outstanding_principal: Decimal
    overdue_interest: Decimal
    outstanding_balance: Decimal
    remaining_instalments: int
    next_due: date | None
    next_amount: Decimal | None
    returned_payments: int

    @property
    def is_overdue(self) -> bool:
        return self.arrears > ZERO


def arrears_statement(
    *,
    loan_reference: str,
    currency: str,
    annual_rate: Decimal,
    contractual_instalment: Decimal,
    instalments: list[InstalmentLine],
    charges: list[ChargeLine],
    returned_payments: int,
    today: date,
) -> ArrearsStatement:
    """The arrears, their breakdown and the balance of one loan as of `today`."""
    unpaid = [line for line in instalments if line.paid < line.amount]
    missed = tuple(line for line in unpaid if line.due < today)
    upcoming = [line for line in unpaid if line.due >= today]
    missed_amount = sum((line.amount - line.paid for line in missed), ZERO)
    live = [c for c in charges if not c.waived]
    late_fees = sum((c.amount - c.paid for c in live if c.kind == "late_fee"), ZERO)
    penalty = sum((c.amount - c.paid for c in live if c.kind == "penalty_interest"), ZERO)
    arrears = missed_amount + late_fees + penalty
    outstanding_principal = sum((line.principal - line.principal_paid for line in unpaid), ZERO)
    overdue_interest = sum((line.interest - line.interest_paid for line in missed), ZERO)
    next_line = min(upcoming, key=lambda line: line.due, default=None)
    return ArrearsStatement(
        loan_reference=loan_reference,
        currency=currency,
        annual_rate=annual_rate,
        contractual_instalment=contractual_instalment,
        missed_instalments=missed,
        missed_amount=missed_amount,
        late_fees=late_fees,
        penalty_interest=penalty,
        arrears=arrears,
        days_past_due=(today - missed[0].due).days if missed else 0,
        outstanding_principal=outstanding_principal,
        overdue_interest=overdue_interest,
        outstanding_balance=outstanding_principal + overdue_interest + late_fees + penalty,
        remaining_instalments=len(upcoming),
        next_due=next_line.due if next_line else None,
        next_amount=next_line.amount - next_line.paid if next_line else None,
        returned_payments=returned_payments,
    )
