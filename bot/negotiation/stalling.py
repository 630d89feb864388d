"""Anti-stalling: when asking for another plan has become a way to delay paying."""

from __future__ import annotations

from dataclasses import dataclass

from bot.negotiation.policy import Policy


@dataclass(frozen=True)
class History:
    """The borrower's record of past plans and promises with this lender."""

    renegotiations_last_12_months: int
    broken_promises: int
    open_promises: int
    broken_plans: int = 0  # agreed plans that broke (a default) in the last 12 months


def stalling_check(history: History, policy: Policy) -> str | None:
    """The anti-stalling rule that stops a new plan, or None when negotiating may go on.

    "broken_promises": the borrower has broken as many promises as the policy
    tolerates; "renegotiation_limit": they already had as many plans in the
    last 12 months as the policy allows; "plan_broken": a plan agreed with them broke in the last
    12 months (a default voids the plan). Whichever, a person takes over.
    """
    rules = policy.anti_stalling
    if history.broken_plans:
        return "plan_broken"
    if history.broken_promises >= rules.broken_promises_limit:
        return "broken_promises"
    if history.renegotiations_last_12_months >= rules.renegotiations_per_12_months:
        return "renegotiation_limit"
    return None
