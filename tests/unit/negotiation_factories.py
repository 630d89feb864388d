"""Consistent lender's books for tests of the negotiation engine."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from bot.negotiation import AccountPosition

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def annuity_position(
    *,
    annual_rate: Decimal,
    instalment: Decimal,
    missed: int,
    remaining: int,
    fees: Decimal = Decimal("0"),
    penalty: Decimal = Decimal("0"),
    days_past_due: int,
) -> AccountPosition:
    """The books of an annuity loan with `missed` unpaid instalments and `remaining` to come.

    Outstanding principal is the present value of all unpaid instalments; the
    overdue interest is the interest part of the missed ones, month by month,
    exactly as the loan's own amortisation table would show it.
    """
    rate = annual_rate / 12
    unpaid = missed + remaining
    principal = cents(instalment * (1 - (1 + rate) ** -unpaid) / rate) if rate else instalment * unpaid
    balance, overdue_interest = principal, Decimal("0")
    for _ in range(missed):
        interest = cents(balance * rate)
        overdue_interest += interest
        balance -= instalment - interest
    return AccountPosition(
        currency="CNY",
        annual_rate=annual_rate,
        contractual_instalment=instalment,
        outstanding_principal=principal,
        overdue_interest=overdue_interest,
        fees=fees,
        penalty_interest=penalty,
        arrears=instalment * missed + fees + penalty,
        remaining_instalments=remaining,
        days_past_due=days_past_due,
    )
