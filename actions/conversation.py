"""Conversation basics: greetings, "are you a bot?", purpose, thanks, and reading what the classifier could not place."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import BorrowerAction, current_verification, is_verified, latest_intent, latest_text, say, today
from actions.understanding import current_step
from actions.verification import verify_and_continue
from bot.language import parse_date_of_birth, parse_loan_ref
from bot.messages import too_long


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
        verified = is_verified(tracker)
        if not verified and carries_identity(latest_text(tracker)):
            return await verify_and_continue(dispatcher, tracker)  # "hi, HCF-1001, born 12 Apr 1988"
        intent = latest_intent(tracker)
        response = SMALL_TALK.get(intent)
        if response:
            say(dispatcher, response)
        if intent in ("goodbye", "thanks"):
            return []
        if verified and current_step(tracker) is not None:
            return []  # mid-flow: the open question is asked again (BorrowerAction.run)
        say(dispatcher, "utter_how_can_i_help" if verified else "utter_ask_identity")
        return []


# What the bot says when it did not understand: a user turn answered with one of these was a misread.
MISREAD_ANSWERS = {"utter_did_not_understand", "utter_out_of_scope", "utter_offer_person"}
MISREADS_BEFORE_OFFER, MISREADS_BEFORE_HANDOFF = 2, 3


def has_words(text: str) -> bool:
    """Letters, digits or Han characters: an empty, whitespace, emoji or sticker message has none."""
    return any(character.isalnum() for character in text)


def misreads_in_a_row(tracker: Tracker) -> int:
    """Real misunderstandings in a row, the latest message included (it reached the fallback).

    A turn is a misread when the bot answered it with a "did not understand" response; messages
    without words are no misread and do not break the run (DOMAIN.md: an emoji is not a misread).
    """
    count = 1
    answers: set[str] = set()
    skipped_latest = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "session_started":
            break
        if kind == "bot":
            answers.add((event.get("metadata") or {}).get("utter_action"))
        elif kind == "user":
            if not skipped_latest:  # the message being answered now
                skipped_latest, answers = True, set()
                continue
            if not has_words(event.get("text") or ""):
                answers = set()
                continue
            if not answers & MISREAD_ANSWERS:
                break
            count += 1
            answers = set()
    return count


def carries_identity(text: str) -> bool:
    """A loan reference or a date of birth (even an impossible one) in the message."""
    birth = parse_date_of_birth(text, today())
    return bool(parse_loan_ref(text)) or birth.value is not None or birth.impossible


class ActionFallback(BorrowerAction):
    """A message the classifier could not place: read it against what the bot asked first.

    Answers to the question the bot asked never reach it (``BorrowerAction.handler``
    routes them to the action for that answer), nor do identity details before
    verification; a message without words gets a short prompt. Otherwise: say what
    the bot can do; at the second misread in a row offer the choices with a person among
    them; at the third, a person takes over.
    """

    def name(self) -> Text:
        return "action_fallback"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = latest_text(tracker)
        if not has_words(text):
            say(dispatcher, "utter_empty_message")
            return []
        if too_long(text):  # the channels refuse these first; a message from elsewhere still gets an answer
            say(dispatcher, "utter_message_too_long")
            return []
        verified = current_verification(tracker) is not None
        if not verified and carries_identity(text):
            return await verify_and_continue(dispatcher, tracker)
        misreads = misreads_in_a_row(tracker)
        if misreads >= MISREADS_BEFORE_HANDOFF:
            return [SlotSet("handoff_reason", "repeated_misunderstanding"), FollowupAction("action_handoff")]
        if misreads == MISREADS_BEFORE_OFFER:
            say(dispatcher, "utter_offer_person")
            return []
        say(dispatcher, "utter_out_of_scope" if latest_intent(tracker) == "out_of_scope" else "utter_did_not_understand")
        if not verified:
            say(dispatcher, "utter_ask_identity")
        return []
