"""What a borrower can sustain each month, and whether their hardship calls for a grace period."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.negotiation.money import ZERO, cents_down
from bot.negotiation.policy import Policy


@dataclass(frozen=True)
class Hardship:
    """Why the borrower fell behind, as they told it."""

    cause: str | None
    temporary: bool | None
    recovery_months: int | None


@dataclass(frozen=True)
class Finances:
    """The borrower's monthly budget, as they told it."""

    net_income: Decimal
    essential_costs: Decimal
    other_unsecured_debt_payments: Decimal = Decimal(0)


def monthly_surplus(finances: Finances, policy: Policy) -> Decimal:
    """Income left after essential costs and the savings allowance; never negative."""
    surplus = finances.net_income - finances.essential_costs - policy.affordability.savings_allowance
    return max(ZERO, cents_down(surplus))


def affordable_instalment(
    finances: Finances, policy: Policy, contractual_instalment: Decimal | None = None
) -> Decimal:
    """The most a plan may ask each month: the policy's share of the surplus, never negative.

    With other unsecured debts the share is split pro rata to the contractual
    payments, so pass our `contractual_instalment`. Without it, the other
    payments come off the share in full (the cautious reading).
    """
    share = monthly_surplus(finances, policy) * policy.affordability.surplus_share
    others = finances.other_unsecured_debt_payments
    if others > 0:
        if contractual_instalment is not None and contractual_instalment > 0:
            share = share * contractual_instalment / (contractual_instalment + others)
        else:
            share = share - others
    return max(ZERO, cents_down(share))


def grace_months_needed(hardship: Hardship) -> int:
    """Months of grace that would cover a temporary hardship's recovery; 0 when grace does not fit.

    Grace is only for a hardship the borrower says is temporary with a known
    recovery; an open-ended one needs a budget-sized plan or a person.
    """
    if hardship.temporary is not True or hardship.recovery_months is None:
        return 0
    return max(0, hardship.recovery_months)
