"""Account requests: what is owed, opting out of contact, "wrong person"."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import BorrowerAction, keep_verified, language, latest_text, say, services, verified_reference
from actions.outreach import outreach_loan_reference
from actions.plan_status import tell_plan
from actions.statements import tell_arrears
from actions.verification import verify_and_continue
from bot.accounts.repository import AccountRepository


class ActionShowArrears(BorrowerAction):
    """"How much do I owe?": the breakdown once verified; before that, verification."""

    def name(self) -> Text:
        return "action_show_arrears"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reference = verified_reference(tracker)
        if reference is None:
            return await verify_and_continue(dispatcher, tracker)
        if not tell_plan(dispatcher, reference, language(tracker)):
            tell_arrears(dispatcher, reference, language(tracker))
        return keep_verified()


class ActionStopContact(BorrowerAction):
    """Record an opt-out from contact, whether or not the person is verified, with the channel it came
    from (the contact rules honour it per channel). Right after a proactive message the person is not
    verified again yet: the loan is the one the message was about (it was sent to that borrower's chat)."""

    def name(self) -> Text:
        return "action_stop_contact"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reference = verified_reference(tracker) or outreach_loan_reference(tracker)
        with services().db.unit_of_work() as session:
            AccountRepository(session).record_opt_out(
                tracker.sender_id, reference, tracker.get_latest_input_channel(), latest_text(tracker)
            )
        say(dispatcher, "utter_stop_contact_recorded")
        return []


class ActionWrongPerson(BorrowerAction):
    """"This isn't my loan": disclose nothing, forget any partial identity, note it."""

    def name(self) -> Text:
        return "action_wrong_person"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        say(dispatcher, "utter_wrong_person")
        return [SlotSet("pending_loan_ref", None), SlotSet("pending_dob", None)]
