"""Conversation basics: greetings, "are you a bot?", purpose, thanks, and not understanding."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import BorrowerAction, is_verified, latest_intent, latest_text, say
from actions.negotiation import Negotiation

MISUNDERSTOOD = {"nlu_fallback", "out_of_scope"}
LONG_MESSAGE = 2000

SMALL_TALK = {
    "bot_challenge": "utter_iamabot",
    "ask_purpose": "utter_purpose",
    "goodbye": "utter_goodbye",
    "thanks": "utter_youre_welcome",
}


class ActionSmallTalk(BorrowerAction):
    """Answer greetings and simple questions, then steer to verification or help."""

    def name(self) -> Text:
        return "action_small_talk"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = latest_intent(tracker)
        response = SMALL_TALK.get(intent)
        if response:
            say(dispatcher, response)
        if intent in ("goodbye", "thanks"):
            return []
        say(dispatcher, "utter_how_can_i_help" if is_verified(tracker) else "utter_ask_identity")
        return []


def _previous_user_intent(tracker: Tracker) -> str | None:
    """The intent of the user message before the latest one, in this session."""
    seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return None
        if event.get("event") == "user":
            seen += 1
            if seen == 2:
                return (event.get("parse_data") or {}).get("intent", {}).get("name")
    return None


class ActionFallback(BorrowerAction):
    """Not understood or out of scope: say what the bot can do; twice in a row, offer a person."""

    def name(self) -> Text:
        return "action_fallback"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = latest_text(tracker)
        if not text.strip():
            say(dispatcher, "utter_empty_message")
            return []
        if len(text) > LONG_MESSAGE:
            say(dispatcher, "utter_message_too_long")
            return []
        if is_verified(tracker) and tracker.get_slot("stage"):
            answered = Negotiation(dispatcher, tracker).answer_in_context()
            if answered is not None:
                return answered
        intent = latest_intent(tracker)
        previous = _previous_user_intent(tracker)
        if intent == "nlu_fallback" and previous == "nlu_fallback":
            # Two real misunderstandings in a row: a person takes over (DOMAIN.md).
            return [SlotSet("handoff_reason", "repeated_misunderstanding"), FollowupAction("action_handoff")]
        if previous in MISUNDERSTOOD:
            say(dispatcher, "utter_offer_person")
            return []
        say(dispatcher, "utter_out_of_scope" if intent == "out_of_scope" else "utter_did_not_understand")
        if not is_verified(tracker):
            say(dispatcher, "utter_ask_identity")
        return []
