"""Offers as plain JSON-safe terms: what is shown, stored, handed to an agent and signed."""
from __future__ import annotations

from bot.negotiation import Offer


def offer_terms(offer: Offer) -> dict:
    """The offer's terms with money as strings ("1144.60") and dates as ISO text."""
    return {
        "concessions": [c.value for c in offer.concessions],
        "monthly": str(offer.monthly),
        "months": offer.months,
        "grace_months": offer.grace_months,
        "interest_waived_months": offer.interest_waived_months,
        "waived_fees": str(offer.waived_fees),
        "waived_interest": str(offer.waived_interest),
        "written_off": str(offer.written_off),
        "down_payment": str(offer.down_payment),
        "extension_months": offer.extension_months,
        "first_payment": offer.first_payment.isoformat(),
        "good_faith_amount": str(offer.good_faith_amount),
        "good_faith_due": offer.good_faith_due.isoformat() if offer.good_faith_due else None,
        "total_paid": str(offer.total_paid),
        "balance": str(offer.balance),
        "interest_accrues": offer.interest_accrues,
        "authority": offer.authority.value,
        "rule": offer.rule,
        "policy_version": offer.policy_version,
        "schedule": [
            {"number": i.number, "due": i.due.isoformat(), "amount": str(i.amount),
             "principal": str(i.principal), "interest": str(i.interest)}
            for i in offer.schedule
        ],
    }
