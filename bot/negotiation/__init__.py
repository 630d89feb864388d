"""Negotiation engine: repayment plans within the lender's policy limits, as pure functions over plain data."""

from bot.negotiation.affordability import (
    Finances,
    Hardship,
    affordable_instalment,
    grace_months_needed,
    monthly_surplus,
)
from bot.negotiation.money import (
    CENT,
    cents_down,
    cents_up,
    level_instalment,
    monthly_rate,
    present_value_factor,
    to_cents,
)
from bot.negotiation.plans import (
    AccountPosition,
    Concession,
    CounterOfferResult,
    CounterOfferStatus,
    Offer,
    Proposal,
    evaluate_counter_offer,
    promise_minimum,
    promise_to_pay_allowed,
    propose_offers,
)
from bot.negotiation.policy import Authority, Policy, PolicyError, RoleCaps, load_policy, policy_from_mapping
from bot.negotiation.schedule import Instalment, PlanDoesNotRepay, Schedule, due_date, instalment_schedule
from bot.negotiation.stalling import History, stalling_check

__all__ = [
    "CENT",
    "AccountPosition",
    "Authority",
    "Concession",
    "CounterOfferResult",
    "CounterOfferStatus",
    "Finances",
    "Hardship",
    "History",
    "Instalment",
    "Offer",
    "PlanDoesNotRepay",
    "Policy",
    "PolicyError",
    "Proposal",
    "RoleCaps",
    "Schedule",
    "affordable_instalment",
    "cents_down",
    "cents_up",
    "due_date",
    "evaluate_counter_offer",
    "grace_months_needed",
    "instalment_schedule",
    "level_instalment",
    "load_policy",
    "monthly_rate",
    "monthly_surplus",
    "policy_from_mapping",
    "present_value_factor",
    "promise_minimum",
    "promise_to_pay_allowed",
    "propose_offers",
    "stalling_check",
    "to_cents",
]
