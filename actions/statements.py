"""Telling a verified borrower what is overdue, in their language."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import accounts, say, services, today
from bot.language import format_date, format_money


def tell_arrears(dispatcher: CollectingDispatcher, loan_reference: str, lang: str) -> bool:
    """Dispatch the arrears breakdown (or that nothing is overdue); True when something is overdue."""
    with services().db.unit_of_work() as session:
        statement = accounts(session).statement(loan_reference, today())
    if statement is None:  # the loan was removed after verification
        say(dispatcher, "utter_service_unavailable")
        return False
    money = lambda amount: format_money(amount, statement.currency, lang)  # noqa: E731
    next_due = format_date(statement.next_due, lang) if statement.next_due else "-"
    next_amount = money(statement.next_amount) if statement.next_amount is not None else "-"
    if not statement.is_overdue:
        say(dispatcher, "utter_nothing_overdue", loan_ref=loan_reference, next_amount=next_amount, next_due=next_due)
        return False
    say(
        dispatcher, "utter_arrears",
        loan_ref=loan_reference,
        arrears=money(statement.arrears),
        days_past_due=statement.days_past_due,
        missed_count=len(statement.missed_instalments),
        missed_amount=money(statement.missed_amount),
        late_fees=money(statement.late_fees),
        penalty_interest=money(statement.penalty_interest),
        outstanding_balance=money(statement.outstanding_balance),
        next_amount=next_amount,
        next_due=next_due,
    )
    if statement.returned_payments:
        say(dispatcher, "utter_returned_payment")
    return True


def next_step_after_arrears(dispatcher: CollectingDispatcher, tracker: Tracker, overdue: bool) -> list[EventType]:
    """Once the borrower knows what is overdue, open the negotiation by asking what happened."""
    if overdue and not tracker.get_slot("stage"):
        say(dispatcher, "utter_ask_cause")
        return [SlotSet("stage", "cause")]
    say(dispatcher, "utter_how_can_i_help")
    return []