"""Identity verification: loan reference plus date of birth, before anything is disclosed."""
from __future__ import annotations

import logging
from datetime import date
from typing import Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    BorrowerAction, accounts, keep_verified, is_verified, language, latest_text, say, services, today, utc_now,
)
from actions.outreach import tell_outreach_subject
from actions.statements import next_step_after_arrears, tell_arrears
from bot.accounts.source import AccountsUnavailable
from bot.language import parse_date_of_birth, parse_loan_ref
from bot.lifecycle.standing import standing_news
from bot.messages.plural import counted
from bot.verification.service import Lock, Outcome, verify_identity
from bot.verification.settings import lender_timezone, lockout_rule
from bot.verification.wording import pause_end_text

log = logging.getLogger(__name__)

# Each pause is explained in its own words: the borrower should know what to do next.
PAUSE_RESPONSES = {
    Lock.CONVERSATION: "utter_verification_locked_conversation",
    Lock.CONVERSATION_REFERENCE: "utter_verification_locked",
    Lock.REFERENCE: "utter_verification_locked_reference",
}


async def verify_or_prompt(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> tuple[bool, list[EventType]]:
    """Use whatever identity the latest message holds; (verified now?, events).

    Slots that gate disclosure are set here and only here, from the database's answer.
    """
    text = latest_text(tracker)
    reference = parse_loan_ref(text) or tracker.get_slot("pending_loan_ref")
    birth = parse_date_of_birth(text, today())
    if birth.impossible:
        say(dispatcher, "utter_impossible_date")
        return False, [SlotSet("pending_loan_ref", reference)]
    dob_text = birth.value.isoformat() if birth.value else tracker.get_slot("pending_dob")
    if not reference and not dob_text:
        say(dispatcher, "utter_ask_identity")
        return False, []
    if not dob_text:
        say(dispatcher, "utter_ask_dob")
        return False, [SlotSet("pending_loan_ref", reference)]
    if not reference:
        say(dispatcher, "utter_ask_loan_ref")
        return False, [SlotSet("pending_dob", dob_text)]

    rule = lockout_rule(services().settings)
    try:
        with services().db.unit_of_work() as session:
            result = verify_identity(
                session,
                loan_reference=reference,
                date_of_birth=date.fromisoformat(dob_text),
                conversation_id=tracker.sender_id,
                channel=tracker.get_latest_input_channel(),
                now=utc_now(),
                rule=rule,
                accounts=accounts(session),
            )
    except AccountsUnavailable as error:
        # Not counted as an attempt; the identity given waits for the borrower's next try.
        log.warning("verification: account source unavailable: %s", error)
        say(dispatcher, "utter_service_unavailable")
        return False, [SlotSet("pending_loan_ref", reference), SlotSet("pending_dob", dob_text)]
    cleared = [SlotSet("pending_loan_ref", None), SlotSet("pending_dob", None)]
    if result.outcome is Outcome.VERIFIED:
        say(dispatcher, "utter_verified")
        return True, cleared + [
            SlotSet("verified", True), SlotSet("verified_loan_ref", result.loan_reference),
        ] + keep_verified()
    if result.outcome is Outcome.LOCKED:
        until = pause_end_text(result.locked_until, language(tracker), lender_timezone())
        say(dispatcher, PAUSE_RESPONSES[result.lock], locked_until=until)
        return False, cleared
    say(dispatcher, "utter_verification_failed", attempts_left=result.attempts_left,
        attempts_text=counted(result.attempts_left, "en", {"one": "{n} attempt", "other": "{n} attempts"}))
    return False, cleared


def tell_standing(dispatcher: CollectingDispatcher, reference: str, lang: str) -> None:
    """A returning borrower first hears where their plan or last promise stands (nothing for a newcomer)."""
    with services().db.unit_of_work() as session:
        loan = accounts(session).loan_by_reference(reference)
        news = None if loan is None else standing_news(
            session, reference, loan.currency, lang, utc_now(),
            services().policy.lifecycle.plan_default_after_days)
    if news is not None:
        say(dispatcher, "utter_welcome_back", standing=news.text)


async def verify_and_continue(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Verify from the latest message; once verified, state the account and ask the next question.

    Every action that needs a verified borrower calls this when the borrower is not
    verified yet, so identity details are honoured whatever intent the NLU chose. After a
    proactive message, what it was about is told instead (``actions.outreach``).
    """
    verified, events = await verify_or_prompt(dispatcher, tracker)
    if verified:
        reference = next(e["value"] for e in events if e.get("name") == "verified_loan_ref")
        try:
            told = tell_outreach_subject(dispatcher, tracker, reference)  # a proactive message's subject first
        except AccountsUnavailable as error:
            log.warning("outreach subject: account source unavailable: %s", error)
            told = None
        if told is not None:
            return events + told
        if tracker.get_slot("outreach_contact"):
            events += [SlotSet("outreach_contact", None), SlotSet("outreach_reason", None)]
        try:
            tell_standing(dispatcher, reference, language(tracker))
            overdue = tell_arrears(dispatcher, reference, language(tracker))
        except AccountsUnavailable as error:
            # Verified all the same (the events below keep it); the account is told on the next try.
            log.warning("arrears after verification: account source unavailable: %s", error)
            say(dispatcher, "utter_service_unavailable")
            return events
        events += next_step_after_arrears(dispatcher, tracker, overdue)
    return events


class ActionVerifyIdentity(BorrowerAction):
    """The borrower sent identity details: verify them, then state the account position."""

    def name(self) -> Text:
        return "action_verify_identity"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if is_verified(tracker):
            say(dispatcher, "utter_how_can_i_help")
            return keep_verified()
        return await verify_and_continue(dispatcher, tracker)
