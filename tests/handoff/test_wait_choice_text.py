"""Text typed after the wait notice (desk closed, or nobody free): the three choices are recognised in
free text in both languages, and anything else keeps the borrower waiting with their words on the
escalation, which is what the console's queue shows as the latest message."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import pytest

from actions.common import utc_now
from actions.waiting import ActionDeskChoice
from bot.handoff.queue import EscalationQueue
from bot.handoff.waiting import WaitChoice, read_wait_choice
from tests.handoff.test_actions import domain, responses, services  # noqa: F401  (fixtures)


@pytest.mark.parametrize("text, choice", [
    ("ok, carry on with the assistant", WaitChoice.CONTINUE),
    ("let me talk to the bot meanwhile", WaitChoice.CONTINUE),
    ("好的，我先用智能助理", WaitChoice.CONTINUE),
    ("继续和机器人聊吧", WaitChoice.CONTINUE),
    ("can you call me back later?", WaitChoice.CALLBACK),
    ("please phone me tomorrow", WaitChoice.CALLBACK),
    ("请给我打电话", WaitChoice.CALLBACK),
    ("方便的话回电给我", WaitChoice.CALLBACK),
    ("I'll keep waiting", WaitChoice.KEEP_WAITING),
    ("continue waiting please", WaitChoice.KEEP_WAITING),   # "continue" here is not the assistant
    ("no problem, I'm waiting", WaitChoice.KEEP_WAITING),
    ("我继续等", WaitChoice.KEEP_WAITING),
    ("没关系，我再等一会儿", WaitChoice.KEEP_WAITING),
    ("I'm asking about my payment date", None),               # "bot" is not in "about"
    ("my salary comes on Friday, I can pay then", None),
    ("我下周五发工资，到时候可以还", None),
    ("robotics", None),
])
def test_the_three_choices_are_read_in_free_text_in_both_languages(text, choice):
    assert read_wait_choice(text, "zh" if not text.isascii() else "en") is choice


def after_the_notice(text: str) -> Tracker:
    """conv-1 right after the desk-closed notice and its three buttons, then the borrower's `text`."""
    events = [
        {"event": "user", "text": "I want a person", "parse_data": {"intent": {"name": "request_human"}}},
        {"event": "bot", "text": "Our agents are not at the desk right now...",
         "metadata": {"utter_action": "utter_desk_closed"}},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}}},
    ]
    return Tracker("conv-1", {"language": "en", "opened": True, "verified": False}, events[-1] | {"intent": {}},
                   events, False, None, {}, "action_listen")


def waiting_escalation(running) -> int:
    with running.db.unit_of_work() as session:
        escalation, _ = EscalationQueue(session).open(
            conversation_id="conv-1", channel="socketio", reason="request_human", priority=3,
            summary={"verified": False, "language": "en"}, language="en", now=utc_now())
        escalation.last_borrower_text = "I want a person"
        return escalation.id


def latest_message(running, escalation_id: int) -> str | None:
    with running.db.unit_of_work() as session:
        return EscalationQueue(session).get(escalation_id).last_borrower_text


async def test_a_message_that_is_no_choice_keeps_waiting_and_reaches_the_queue(services, domain):  # noqa: F811
    escalation_id = waiting_escalation(services)
    dispatcher = CollectingDispatcher()
    said = "my salary comes on Friday, I can pay then"
    events = await ActionDeskChoice().run(dispatcher, after_the_notice(said), domain)
    assert responses(dispatcher) == ["utter_keep_waiting"]
    assert {"event": "pause", "timestamp": None} in events
    assert latest_message(services, escalation_id) == said
    with services.db.unit_of_work() as session:
        assert EscalationQueue(session).get(escalation_id).assistant_resumed_at is None


async def test_a_typed_choice_is_taken_and_is_not_a_message_for_the_agent(services, domain):  # noqa: F811
    escalation_id = waiting_escalation(services)
    dispatcher = CollectingDispatcher()
    events = await ActionDeskChoice().run(dispatcher, after_the_notice("ok, carry on with the assistant"), domain)
    assert responses(dispatcher) == ["utter_desk_assistant_resumed"]
    assert not any(event.get("event") == "pause" for event in events)
    assert latest_message(services, escalation_id) == "I want a person"
    with services.db.unit_of_work() as session:
        assert EscalationQueue(session).get(escalation_id).assistant_resumed_at is not None
