"""Account questions once a plan is agreed: answered from the agreement, not the old contract."""
from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.common import say, services, today
from bot.agreements.links import agreement_url
from bot.agreements.plan import plan_position
from bot.agreements.service import latest_agreement
from bot.language import format_date, format_money


def tell_plan(dispatcher: CollectingDispatcher, loan_reference: str, lang: str) -> bool:
    """State the agreed plan's next payment; False when the loan has no running plan."""
    with services().db.unit_of_work() as session:
        agreement = latest_agreement(session, loan_reference)
        position = plan_position(agreement, today()) if agreement is not None else None
    if position is None:
        return False
    settings = services().settings
    say(dispatcher, "utter_plan_status", reference=position.reference, loan_ref=loan_reference,
        monthly=format_money(position.monthly, position.currency, lang), months=position.months,
        number=position.number, next_amount=format_money(position.next_amount, position.currency, lang),
        next_due=format_date(position.next_due, lang),
        url=agreement_url(settings.public_base_url, settings.link_secret, position.reference))
    return True
