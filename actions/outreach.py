"""The assistant writes first: a limited-content message, then the details once the person verifies again.

The scheduler sends `EXTERNAL_outreach` through Rasa's `trigger_intent` with the entities
`outreach_reason` and `contact_id`. The message it triggers names the lender, says it is the
automated assistant and that there is something about the account, how to reply and how to stop:
no amount, date or reference, whoever holds the phone. Any earlier verification of the
conversation ends here, so nothing is disclosed before the person replying verifies again; the
contact is remembered (`outreach_contact`) and `verify_and_continue` tells what it was about.
"""
from __future__ import annotations

import logging
from typing import Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import BorrowerAction, accounts, language, say, services, utc_now
from bot.agreements.service import negotiation_history
from bot.language import format_date, format_money
from bot.negotiation import stalling_check
from bot.outreach.models import INSTALMENT_REMINDER, MISSED_INSTALMENT, MISSED_PROMISE, PROMISE_REMINDER
from bot.outreach.subject import Subject, addressed_contact, subject_of
from bot.verification.sessions import end_verified_session

log = logging.getLogger(__name__)

# Slots that gate disclosure (with `verified`) or hold a half-given identity: cleared when the assistant writes first.
VERIFICATION_SLOTS = ("verified_loan_ref", "verified_at", "pending_loan_ref", "pending_dob")
SUBJECT_RESPONSES = {
    PROMISE_REMINDER: "utter_outreach_promise_due",
    INSTALMENT_REMINDER: "utter_outreach_instalment_due",
    MISSED_PROMISE: "utter_outreach_promise_missed",
    MISSED_INSTALMENT: "utter_outreach_instalment_missed",
}
MISSED = (MISSED_PROMISE, MISSED_INSTALMENT)


def entity(tracker: Tracker, name: str) -> str | None:
    for item in tracker.latest_message.get("entities") or []:
        if item.get("entity") == name and item.get("value") not in (None, ""):
            return str(item["value"])
    return None


class ActionOutreach(BorrowerAction):
    """`EXTERNAL_outreach`: the limited-content message, in the borrower's language; verification starts over."""

    opens_conversation = False  # the message itself names the lender and the assistant, and nothing else

    def name(self) -> Text:
        return "action_outreach"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with services().db.unit_of_work() as session:
            contact = addressed_contact(session, entity(tracker, "contact_id") or "", tracker.sender_id)
            details = None if contact is None else (contact.id, contact.reason, contact.language)
        if details is None:
            # Typed by hand ("/EXTERNAL_outreach{...}") or a contact for another conversation: nothing happens.
            log.warning("outreach: no contact %r for this conversation", entity(tracker, "contact_id"))
            return []
        contact_id, reason, contact_language = details
        lang = "zh" if contact_language == "zh" else language(tracker)
        if lang != language(tracker):
            # Responses are phrased from the slots as they were when the action was called:
            # set the language, then write in it.
            return [SlotSet("language", lang), FollowupAction(self.name())]
        with services().db.unit_of_work() as session:
            end_verified_session(session, tracker.sender_id, now=utc_now())
        say(dispatcher, "utter_outreach_notice")
        return [SlotSet(name, None) for name in VERIFICATION_SLOTS] + [
            SlotSet("verified", False), SlotSet("outreach_contact", str(contact_id)), SlotSet("outreach_reason", reason),
        ]


def outreach_loan_reference(tracker: Tracker) -> str | None:
    """The loan the last proactive message to this conversation was about (for recording an opt-out)."""
    contact_id = tracker.get_slot("outreach_contact")
    if not contact_id:
        return None
    with services().db.unit_of_work() as session:
        contact = addressed_contact(session, contact_id, tracker.sender_id)
        return contact.loan_reference if contact is not None else None


def tell_outreach_subject(dispatcher: CollectingDispatcher, tracker: Tracker, reference: str
                          ) -> list[EventType] | None:
    """Once verified after a proactive message: what it was about, for the loan just verified.

    Events (the contact forgotten) when the subject was told and the usual continuation is not
    wanted; None to go on as usual (no contact, a re-engagement, another loan, a promise already kept).
    """
    contact_id = tracker.get_slot("outreach_contact")
    if not contact_id:
        return None
    forget = [SlotSet("outreach_contact", None), SlotSet("outreach_reason", None)]
    lang = language(tracker)
    with services().db.unit_of_work() as session:
        contact = addressed_contact(session, contact_id, tracker.sender_id)
        subject = None
        if contact is not None and contact.loan_reference == reference:
            subject = subject_of(session, contact)
        loan = accounts(session).loan_by_reference(reference) if subject is not None else None
        stalled = None
        if subject is not None and subject.reason in MISSED:
            stalled = stalling_check(negotiation_history(session, reference, utc_now()), services().policy)
    if subject is None or subject.settled or loan is None:
        return None  # the usual statement and next question; the slot is cleared by the caller's events
    say(dispatcher, SUBJECT_RESPONSES[subject.reason], **subject_values(subject, loan.currency, lang))
    if subject.reason not in MISSED:
        say(dispatcher, "utter_how_can_i_help")
        return forget
    if stalled is not None:
        say(dispatcher, "utter_outreach_arrangement_with_person")
        return forget
    say(dispatcher, "utter_outreach_new_arrangement")
    say(dispatcher, "utter_ask_cause")
    return forget + [SlotSet("stage", "cause"), SlotSet("pending_offer", None), SlotSet("proposed_offer", None)]


def subject_values(subject: Subject, currency: str, lang: str) -> dict[str, object]:
    return {
        "loan_ref": subject.loan_reference,
        "amount": format_money(subject.amount, currency, lang),
        "date": format_date(subject.due_on, lang),
        "reference": subject.agreement_reference or "",
        "number": subject.number or "",
        "months": subject.months or "",
    }
