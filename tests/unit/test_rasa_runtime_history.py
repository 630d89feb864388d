"""The bounded history an action call carries gives every reader of `tracker.events` the full history's answer.

The readers are our actions' own functions (audited in rasa_runtime/action_history.py), run on a
rasa_sdk `Tracker` built from Rasa's request, once with the whole history and once with the bounded
one, over generated conversations (sessions, external intents, misreads, buttons, repeats).
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker

import rasa_runtime
from actions.common import offered_buttons
from actions.conversation import MISREAD_ANSWERS, misreads_in_a_row
from actions.handoff import borrower_messages
from actions.understanding import last_bot_turn, said_in_session
from rasa_runtime.action_history import RECENT_USER_TURNS, bounded_events

RESPONSES = sorted(MISREAD_ANSWERS) + ["utter_ask_recovery", "utter_greet", "utter_choose_offer", None]
TEXTS = ["hi", "option 1", "I agree", "👍", "/EXTERNAL_outreach", "/EXTERNAL_agent_closed", "what?", "1"]

user = st.builds(lambda text: UserUttered(text, {"name": "greet"}), st.sampled_from(TEXTS))
bot = st.builds(
    lambda response, buttons: BotUttered(
        "text", {"buttons": [{"title": b, "payload": b} for b in buttons]} if buttons else {},
        {"utter_action": response} if response else {}),
    st.sampled_from(RESPONSES), st.lists(st.sampled_from(TEXTS), max_size=2))
other = st.sampled_from([ActionExecuted("action_listen"), ActionExecuted("action_session_start"),
                         SlotSet("verified", True)])
session = st.just(SessionStarted())
events = st.lists(st.one_of(user, user, bot, bot, bot, other, session), max_size=160)


def sdk_tracker(rasa_events: list) -> Tracker:
    tracker = DialogueStateTracker.from_events("rest:history", rasa_events)
    state = tracker.current_state(EventVerbosity.ALL)
    return Tracker.from_dict(state)


def answers(tracker: Tracker) -> dict:
    misreads = misreads_in_a_row(tracker)
    return {
        "offered_buttons": offered_buttons(tracker),
        "last_bot_turn": last_bot_turn(tracker),
        "borrower_messages": borrower_messages(tracker),
        "misreads_decision": (misreads >= 3, misreads == 2),
        "said_in_session": {response: said_in_session(tracker, response) for response in RESPONSES if response},
    }


@settings(max_examples=300, deadline=None)
@given(events)
def test_every_reader_of_the_history_gets_the_same_answer_from_the_bounded_one(rasa_events):
    assert answers(sdk_tracker(bounded_events(rasa_events))) == answers(sdk_tracker(rasa_events))


def test_a_long_conversation_is_bounded_and_a_short_one_is_sent_whole():
    turn = [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"}),
            ActionExecuted("action_reply"), BotUttered("hello", {}, {"utter_action": "utter_greet"})]
    short = [SessionStarted(), *turn * (RECENT_USER_TURNS - 1)]
    assert bounded_events(short) == short
    long = [SessionStarted(), BotUttered("x", {}, {"utter_action": "utter_ask_recovery"}), *turn * 400]
    kept = bounded_events(long)
    assert len(kept) == 2 + 1 + 4 * RECENT_USER_TURNS - 1   # session start, 2 summarised bot events, recent
    assert kept[0] is long[0] and kept[1] is long[1]
    assert kept[-4 * RECENT_USER_TURNS + 1:] == long[-4 * RECENT_USER_TURNS + 1:]


def test_the_action_request_is_rasas_with_the_bounded_events():
    rasa_runtime.install()
    action = RemoteAction("action_reply", EndpointConfig("http://localhost:5055/webhook"))
    turn = [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"}), SlotSet("verified", True),
            ActionExecuted("action_reply"), BotUttered("hello", {}, {"utter_action": "utter_greet"})]
    domain = Domain.from_dict({"slots": {"verified": {"type": "bool", "mappings": [{"type": "custom"}]}}})
    tracker = DialogueStateTracker.from_events("rest:history", [SessionStarted(), *turn * 50], domain.slots)
    ours = action._action_call_format(tracker, domain)
    rasas = rasa_runtime._RASA_ACTION_CALL_FORMAT(action, tracker, domain)
    assert ours["tracker"]["events"] == [e.as_dict() for e in bounded_events(list(tracker.events))]
    assert len(ours["tracker"]["events"]) < len(rasas["tracker"]["events"])
    assert {**ours, "tracker": {**ours["tracker"], "events": None}} == {
        **rasas, "tracker": {**rasas["tracker"], "events": None}}
    assert ours["tracker"]["slots"]["verified"] is True
