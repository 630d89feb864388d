"""The borrower's side of waiting for a person, and the question after the agent is done.

- `action_desk_unclaimed` answers `EXTERNAL_desk_unclaimed`, which the web schedule triggers once
  per escalation nobody claimed in time (channels/web/schedule.py): the borrower is told and
  offered to go on with the assistant, leave a callback time, or keep waiting.
- `ActionDeskChoice` reads the answer to that offer (and to the callback question) before any
  intent logic; `ActionSatisfaction` reads the 1-5 answer after a hand-back or close.
- `action_agent_closed` answers `EXTERNAL_agent_closed` (the console closed the escalation).

Anyone can type an `EXTERNAL_*` intent, so every action here acts on the escalation row the
server recorded for this conversation, never on slots or entities sent with the message.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Text
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import update

from actions.common import BorrowerAction, language, latest_text, say, services, utc_now
from actions.understanding import last_bot_turn
from bot.handoff.hours import told_hours
from bot.handoff.models import CLAIMED, CLOSED, WAITING, Escalation
from bot.handoff.queue import HANDED_BACK, EscalationQueue
from bot.handoff.waiting import (
    AGENT_ACTIVE_WINDOW, CALLBACK_TITLES, CHOICE_TITLES, CLAIM_HISTORY, SATISFACTION_TITLES, WaitChoice, claim_minutes,
    expected_wait_minutes, read_callback_time, read_satisfaction, read_wait_choice, rounded_wait, satisfaction_open,
)
from bot.messages.waiting import expected_wait_text
from bot.negotiation.policy import DeskRules

log = logging.getLogger(__name__)

# The console triggers the close intent right after recording the close; later, nothing is asked.
CLOSE_WINDOW = timedelta(minutes=10)
CALLBACK_QUESTIONS = ("utter_callback_question", "utter_callback_not_understood")
WAIT_OFFERS = ("utter_desk_closed", "utter_desk_unclaimed")


def _buttons(titles: list[str]) -> list[dict[str, str]]:
    return [{"title": title, "payload": title} for title in titles]


def wait_choice_buttons(lang: str) -> list[dict[str, str]]:
    return _buttons(list(CHOICE_TITLES[lang].values()))


def callback_buttons(lang: str) -> list[dict[str, str]]:
    return _buttons(list(CALLBACK_TITLES[lang].values()))


def satisfaction_buttons(lang: str) -> list[dict[str, str]]:
    return _buttons(list(SATISFACTION_TITLES[lang]))


def ask_satisfaction(dispatcher: CollectingDispatcher, lang: str) -> None:
    say(dispatcher, "utter_satisfaction_question", buttons=satisfaction_buttons(lang))


def offer_wait_choices(dispatcher: CollectingDispatcher, response: str, lang: str) -> None:
    settings = services().settings
    say(dispatcher, response, buttons=wait_choice_buttons(lang),
        **told_hours(services().policy.desk, settings.agent_hours, settings.agent_hours_zh))


def expected_wait(queue: EscalationQueue, desk: DeskRules, priority: int, place: int | None,
                  now: datetime) -> int | None:
    """The expected wait in minutes of a borrower at `place`, from the desk's measured claims; None when
    there is too little data (bot/handoff/waiting.py says how little)."""
    if place is None:
        return None
    seen = claim_minutes(desk, queue.claims_since(priority, now - CLAIM_HISTORY))
    return expected_wait_minutes(seen, place, queue.agents_working(now - AGENT_ACTIVE_WINDOW))


def tell_expected_wait(dispatcher: CollectingDispatcher, minutes: int | None, lang: str) -> None:
    """Say the expected wait, rounded; nothing when it could not be estimated."""
    if minutes is not None:
        dispatcher.utter_message(text=expected_wait_text(rounded_wait(minutes), lang))


def desk_time_text(moment_utc: datetime, lang: str) -> str:
    """A callback time as the desk's clock shows it ("Thu 3 Dec 10:00" / "12月3日 10:00")."""
    desk = services().policy.desk
    local = moment_utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(desk.time_zone))
    if lang == "zh":
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b %H:%M}"


class ActionDeskUnclaimed(BorrowerAction):
    """Nobody claimed the escalation in time: say so and offer the choices (the bot stays resumed for the answer)."""

    opens_conversation = False

    def name(self) -> Text:
        return "action_desk_unclaimed"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with services().db.unit_of_work() as session:
            escalation = EscalationQueue(session).open_for(tracker.sender_id)
            state = None if escalation is None else (escalation.status, escalation.wait_notice_at,
                                                     escalation.assistant_resumed_at, escalation.callback_at)
        if state is None:
            return []
        status, noticed, resumed, callback = state
        if status == CLAIMED:
            return [ConversationPaused()]  # an agent claimed it meanwhile: the agent speaks, not the bot
        if noticed is None or resumed is not None or callback is not None:
            log.warning("unclaimed notice without a notice recorded by the schedule, or after a choice: ignored")
            return []
        offer_wait_choices(dispatcher, "utter_desk_unclaimed", language(tracker))
        return []


class ActionDeskChoice(BorrowerAction):
    """The borrower's answer to the waiting choices, or to the callback question."""

    reads_replies_to = WAIT_OFFERS + CALLBACK_QUESTIONS
    reads_protected = frozenset({"request_human"})  # "I'll wait for a person" after the offer is "keep waiting"

    def name(self) -> Text:
        return "action_desk_choice"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await self.read_reply(dispatcher, tracker, domain) or []

    async def read_reply(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: DomainDict) -> list[EventType] | None:
        lang = language(tracker)
        text = latest_text(tracker)
        now = utc_now()
        with services().db.unit_of_work() as session:
            escalation = EscalationQueue(session).open_for(tracker.sender_id)
            if escalation is None or escalation.status != WAITING:
                return None  # claimed or closed meanwhile: the message is an ordinary one
            escalation_id = escalation.id
        choice = read_wait_choice(text, lang)
        asked_callback = bool(set(last_bot_turn(tracker)) & set(CALLBACK_QUESTIONS))
        if asked_callback and choice in (None, WaitChoice.CALLBACK):
            at = read_callback_time(text, services().policy.desk, now)
            if at is None:
                say(dispatcher, "utter_callback_not_understood", buttons=callback_buttons(lang))
                return []
            self._record(escalation_id, callback_at=at)
            say(dispatcher, "utter_callback_noted", callback_time=desk_time_text(at, lang))
            return []
        if choice is WaitChoice.CONTINUE:
            self._record(escalation_id, assistant_resumed_at=now)
            say(dispatcher, "utter_desk_assistant_resumed")
            return []
        if choice is WaitChoice.CALLBACK:
            say(dispatcher, "utter_callback_question", buttons=callback_buttons(lang))
            return []
        if choice is None:
            # None of the three: a message for the agent. The borrower keeps waiting, and the words are on the
            # escalation now (the queue's latest message), whether or not a console is watching the tracker store.
            with services().db.unit_of_work() as session:
                EscalationQueue(session).record_borrower_message(tracker.sender_id, text, now)
        say(dispatcher, "utter_keep_waiting")
        return [ConversationPaused()]

    @staticmethod
    def _record(escalation_id: int, **values: datetime) -> None:
        with services().db.unit_of_work() as session:
            session.execute(update(Escalation).where(Escalation.id == escalation_id, Escalation.status == WAITING)
                            .values(**values).execution_options(synchronize_session=False))


class ActionSatisfaction(BorrowerAction):
    """The 1-5 answer after a hand-back or close: recorded once, on that conversation's latest escalation."""

    reads_replies_to = ("utter_satisfaction_question",)

    def name(self) -> Text:
        return "action_satisfaction"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await self.read_reply(dispatcher, tracker, domain) or []

    async def read_reply(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: DomainDict) -> list[EventType] | None:
        rating = read_satisfaction(latest_text(tracker))
        if rating is None:
            return None  # not an answer: the message is read as any other
        now = utc_now()
        with services().db.unit_of_work() as session:
            escalation = EscalationQueue(session).latest_for(tracker.sender_id)
            if escalation is None or not satisfaction_open(status=escalation.status, closed_at=escalation.closed_at,
                                                           satisfaction=escalation.satisfaction, now_utc=now):
                return None
            recorded = session.execute(
                update(Escalation).where(Escalation.id == escalation.id, Escalation.satisfaction.is_(None))
                .values(satisfaction=rating, satisfaction_at=now).execution_options(synchronize_session=False)
            ).rowcount == 1
        if recorded:
            say(dispatcher, "utter_satisfaction_thanks")
            return []
        return None


class ActionAgentClosed(BorrowerAction):
    """The console closed the escalation and resumed the bot: ask the one satisfaction question."""

    opens_conversation = False

    def name(self) -> Text:
        return "action_agent_closed"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        now = utc_now()
        with services().db.unit_of_work() as session:
            escalation = EscalationQueue(session).latest_for(tracker.sender_id)
            asked = (escalation is not None and escalation.status == CLOSED and escalation.outcome != HANDED_BACK
                     and escalation.closed_at is not None and now - CLOSE_WINDOW <= escalation.closed_at <= now
                     and escalation.satisfaction is None)
        if not asked:
            log.warning("close intent without a close recorded by the console: ignored")
            return []
        ask_satisfaction(dispatcher, language(tracker))
        return []
