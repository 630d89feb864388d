"""Money arithmetic for plans: rounding to the cent and the level-instalment (annuity) formula.

All amounts are Decimal; nothing here ever touches a float.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal) -> Decimal:
    """Round to the cent, half up: how interest for a month is charged."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def cents_up(amount: Decimal) -> Decimal:
    """Round up to the cent: instalments and floors, so a plan never falls short."""
    return amount.quantize(CENT, rounding=ROUND_CEILING)


def cents_down(amount: Decimal) -> Decimal:
    """Round down to the cent: what a borrower can afford, so we never overstate it."""
    return amount.quantize(CENT, rounding=ROUND_FLOOR)


def monthly_rate(annual_rate: Decimal) -> Decimal:
    """The monthly interest rate of a nominal annual rate (0.18 a year is 0.015 a month)."""
    return annual_rate / 12


def present_value_factor(rate: Decimal, months: int) -> Decimal:
    """What a payment of 1 a month for `months` months is worth today at `rate` a month."""
    if months <= 0:
        return Decimal(0)
    if rate == 0:
        return Decimal(months)
    return (1 - (1 + rate) ** -months) / rate


def level_instalment(balance: Decimal, rate: Decimal, months: int, interest_free_months: int = 0) -> Decimal:
    """The exact level instalment that repays `balance` over `months` at `rate` a month.

    This is P = B*i / (1 - (1+i)^-N), or B/N when interest is frozen. When the
    first `interest_free_months` instalments carry no interest, the balance
    falls by P in each of them before the annuity starts:
    P = B / (k + a(N-k)) with a(n) the present-value factor. Not rounded.
    """
    if months < 1:
        raise ValueError("a plan needs at least one instalment")
    free = min(interest_free_months, months)
    return balance / (free + present_value_factor(rate, months - free))
