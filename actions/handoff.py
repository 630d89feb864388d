"""Handing the conversation to a person, and taking it back when the agent is done.

`action_handoff` records (or refreshes) the conversation's escalation with a
summary for the agent, tells the borrower what happens next and pauses the
conversation. The agent console resumes it and triggers
`EXTERNAL_agent_handed_back`, answered by `action_agent_handed_back`.
"""
from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    BorrowerAction, accounts, is_verified, language, latest_intent, say, services, today, utc_now,
    verified_reference,
)
from actions.waiting import ask_satisfaction, expected_wait, offer_wait_choices, tell_expected_wait
from bot.accounts.source import AccountsUnavailable
from bot.agreements.service import record_offer
from bot.handoff.hours import told_hours
from bot.handoff.queue import EscalationQueue, approved_offer_of
from bot.handoff.triggers import trigger_for
from bot.handoff.waiting import waiting_state
from bot.language import format_date, format_money

log = logging.getLogger(__name__)

# Slots the negotiation fills; copied into the summary as they are when present.
CONTEXT_SLOTS = ("hardship_cause", "hardship_temporary", "monthly_income", "monthly_costs", "offers_made")
LAST_MESSAGES = 5


def borrower_messages(tracker: Tracker, count: int = LAST_MESSAGES) -> list[str]:
    """The borrower's last few messages, oldest first (external intents excluded)."""
    texts = [e.get("text") for e in tracker.events
             if e.get("event") == "user" and e.get("text") and not str(e.get("text")).startswith("/EXTERNAL")]
    return [t[:1000] for t in texts[-count:]]


def _json_slot(tracker: Tracker, name: str) -> Any:
    value = tracker.get_slot(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def escalation_summary(tracker: Tracker, trigger_intent: str | None) -> dict[str, Any]:
    """What the agent needs at a glance; account details only for a verified borrower."""
    summary: dict[str, Any] = {
        "verified": is_verified(tracker),
        "language": language(tracker),
        "triggered_by": trigger_intent,
        "last_messages": borrower_messages(tracker),
    }
    if summary["verified"]:
        reference = tracker.get_slot("verified_loan_ref")
        summary["loan_ref"] = reference
        try:
            with services().db.unit_of_work() as session:
                statement = accounts(session).statement(reference, today())
        except AccountsUnavailable as error:  # the handoff goes ahead; the agent reads the books themselves
            log.warning("handoff summary without account figures: %s", error)
            statement = None
        if statement is not None:
            summary.update(
                arrears=str(statement.arrears), currency=statement.currency,
                days_past_due=statement.days_past_due,
                outstanding_balance=str(statement.outstanding_balance),
            )
    for slot in CONTEXT_SLOTS:
        value = tracker.get_slot(slot)
        if value not in (None, ""):
            summary[slot] = value
    proposed = _json_slot(tracker, "proposed_offer")
    if isinstance(proposed, dict):
        summary["proposed_offer"] = proposed
    return summary


class ActionHandoff(BorrowerAction):
    """Record the escalation, tell the borrower what happens next, pause the conversation."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # Someone at risk hears support and the crisis line before anything else, the opening included.
        if latest_intent(tracker) == "self_harm":
            say(dispatcher, "utter_crisis_support", crisis_line=services().settings.crisis_line,
                crisis_line_zh=services().settings.crisis_line_zh)
        return await super().run(dispatcher, tracker, domain)

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = latest_intent(tracker)
        trigger = trigger_for(intent, tracker.get_slot("handoff_reason"))
        lang = language(tracker)
        now = utc_now()
        desk = services().policy.desk
        with services().db.unit_of_work() as session:
            queue = EscalationQueue(session)
            escalation, _ = queue.open(
                conversation_id=tracker.sender_id, channel=tracker.get_latest_input_channel(),
                reason=trigger.reason, priority=trigger.priority,
                summary=escalation_summary(tracker, intent), language=lang, now=now,
            )
            state = waiting_state(desk, now, escalation.id, [e.id for e in queue.waiting()])
            wait = expected_wait(queue, desk, escalation.priority, state.place, now) if state.desk_open else None
            if not state.desk_open and escalation.wait_notice_at is None:
                escalation.wait_notice_at = now  # told at once; the schedule's unclaimed notice is not sent again
        settings = services().settings
        if trigger.reason == "third_party":
            say(dispatcher, "utter_third_party")  # never a word about the account
        else:
            if trigger.reason == "dispute_debt":
                say(dispatcher, "utter_handoff_dispute")
            say(dispatcher, "utter_handoff_waiting",
                **told_hours(services().policy.desk, settings.agent_hours, settings.agent_hours_zh))
        events: list[EventType] = []
        if tracker.get_slot("handoff_reason"):
            events.append(SlotSet("handoff_reason", None))
        if not state.desk_open:
            # Nobody is at the desk: never a silent wait. The bot stays on for the borrower's choice.
            offer_wait_choices(dispatcher, "utter_desk_closed", lang)
            return events
        if state.place is not None:
            say(dispatcher, "utter_handoff_place", place=state.place)
            tell_expected_wait(dispatcher, wait, lang)
        return events + [ConversationPaused()]


def _money(value: Any, currency: str, lang: str) -> str:
    try:
        return format_money(Decimal(str(value)), currency, lang)
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


def _date(value: Any, lang: str) -> str:
    try:
        return format_date(date.fromisoformat(str(value)), lang)
    except ValueError:
        return str(value)


def present_offer_values(offer: dict[str, Any], lang: str) -> dict[str, Any]:
    """The approved offer's figures, formatted for the borrower's language."""
    currency = offer.get("currency") or "CNY"
    return {
        "monthly": _money(offer.get("monthly"), currency, lang),
        "months": offer.get("months"),
        "first_payment": _date(offer.get("first_payment"), lang),
        "total": _money(offer.get("total_paid", offer.get("total")), currency, lang),
    }


class ActionAgentHandedBack(BorrowerAction):
    """The agent handed back: say so, and present the plan the agent approved to a verified borrower.

    The intent can be typed by anyone (`/EXTERNAL_agent_handed_back`), so the action acts only on a
    hand-back the console recorded in the database (taken once), and states a plan only to a
    borrower verified server-side.
    """

    def name(self) -> Text:
        return "action_agent_handed_back"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with services().db.unit_of_work() as session:
            escalation = EscalationQueue(session).take_hand_back(tracker.sender_id, utc_now())
            offer = approved_offer_of(escalation) if escalation is not None else None
        if escalation is None:
            log.warning("hand-back intent without a hand-back recorded by the console: ignored")
            return []
        say(dispatcher, "utter_back_with_bot")
        reference = verified_reference(tracker)
        terms = plan_terms(offer) if offer else None
        if terms is None or reference is None:
            ask_satisfaction(dispatcher, language(tracker))  # with a plan to answer, the plan comes first
            return []
        # The approved plan becomes an offer shown in this conversation: "I agree" then signs it
        # from the database, once, like any offer the bot made.
        with services().db.unit_of_work() as session:
            offer_id = record_offer(session, conversation_id=tracker.sender_id, loan_reference=reference,
                                    terms=terms, now=utc_now())
        say(dispatcher, "utter_present_approved_offer", **present_offer_values(terms, language(tracker)))
        return [SlotSet("pending_offer", json.dumps({"offer_record_id": offer_id})), SlotSet("stage", "confirm")]


PLAN_KEYS = ("concessions", "monthly", "months", "total_paid", "first_payment", "rule", "policy_version", "schedule")


def plan_terms(offer: dict[str, Any]) -> dict[str, Any] | None:
    """The approved offer as signable plan terms; None when it is not a whole plan (e.g. a counter-offer note)."""
    if not all(key in offer for key in PLAN_KEYS):
        return None
    terms = {key: value for key, value in offer.items() if key not in ("approved_by", "approved_at")}
    terms["authority"] = terms.get("authority") or "supervisor"
    return terms
