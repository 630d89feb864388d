"""Dated instalment schedules: what is due when, split into principal and interest, exact to the cent.

"Principal" here is the part of a payment that repays the restructured balance
(which already holds the overdue interest, fees and penalty interest);
"interest" is the new interest the plan charges. Interest for a month is
rounded to the cent, every instalment but the last is the agreed monthly
amount, and the last one clears what is left, so the principal parts always
add up to the restructured balance exactly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.negotiation.money import ZERO, to_cents


@dataclass(frozen=True)
class Instalment:
    """One dated payment of a plan."""

    number: int
    due: date
    amount: Decimal
    principal: Decimal
    interest: Decimal


@dataclass(frozen=True)
class Schedule:
    """A plan's payments, and the interest its waived months did not charge."""

    instalments: tuple[Instalment, ...]
    waived_interest: Decimal

    @property
    def total(self) -> Decimal:
        """Everything the borrower pays under the plan."""
        return sum((instalment.amount for instalment in self.instalments), ZERO)


class PlanDoesNotRepay(ValueError):
    """The monthly amount never clears the balance within the months allowed."""


def due_date(first_due: date, months_later: int) -> date:
    """The due date `months_later` months after `first_due`, on the same day, clamped to month end."""
    month_index = first_due.month - 1 + months_later
    year, month = first_due.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(first_due.day, calendar.monthrange(year, month)[1]))


def instalment_schedule(
    *,
    balance: Decimal,
    rate: Decimal,
    monthly: Decimal,
    months: int | None,
    first_due: date,
    grace_months: int = 0,
    interest_free_months: int = 0,
    interest_accrues: bool = True,
    down_payment: Decimal = ZERO,
    down_payment_due: date | None = None,
    max_months: int = 600,
) -> Schedule:
    """The payments that repay `balance`: an optional down payment, then `monthly` from `first_due`.

    `months` fixes the number of regular instalments (the last one absorbs the
    rounding); None lets the plan run until `monthly` has cleared the balance
    (the last one is the remainder), failing past `max_months`. Plan months are
    counted from the start: `grace_months` come first with no payment, and the
    first `interest_free_months` charge no interest (recorded as waived). Grace
    interest that is charged is deferred and paid, as interest, first.
    """
    instalments: list[Instalment] = []
    if down_payment > 0:
        instalments.append(
            Instalment(1, down_payment_due or first_due, down_payment, down_payment, ZERO)
        )
    owed_principal = balance - down_payment
    deferred_interest = ZERO
    waived = ZERO

    def interest_for(plan_month: int) -> Decimal:
        nonlocal waived
        if not interest_accrues:
            return ZERO
        interest = to_cents((owed_principal + deferred_interest) * rate)
        if plan_month <= interest_free_months:
            waived += interest
            return ZERO
        return interest

    for plan_month in range(1, grace_months + 1):
        deferred_interest += interest_for(plan_month)

    regular = 0
    while True:
        regular += 1
        if regular > (months if months is not None else max_months):
            raise PlanDoesNotRepay(f"{monthly} a month does not repay {balance}")
        interest_due = deferred_interest + interest_for(grace_months + regular)
        owed = owed_principal + interest_due
        last = regular == months if months is not None else owed <= monthly
        amount = owed if last else monthly
        interest_paid = min(amount, interest_due)
        principal_paid = amount - interest_paid
        if not last and principal_paid >= owed_principal:
            raise PlanDoesNotRepay(f"{monthly} a month repays {balance} before the last instalment")
        instalments.append(
            Instalment(
                number=len(instalments) + 1,
                due=due_date(first_due, regular - 1),
                amount=amount,
                principal=principal_paid,
                interest=interest_paid,
            )
        )
        deferred_interest = interest_due - interest_paid
        owed_principal -= principal_paid
        if last:
            return Schedule(tuple(instalments), waived)
