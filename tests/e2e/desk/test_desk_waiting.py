"""Waiting for a person, from the borrower's side, over the real widget channel (socket.io), the real
Rasa server and action server, and the console's own Rasa client and typing relay.

The stack (conftest.py) runs with a policy whose desk is closed at the time of the test, so a request
for a person is out of hours.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Iterator

import pytest

from bot.handoff.models import Escalation
from bot.handoff.queue import EscalationQueue
from bot.negotiation.policy import DeskRules
from channels.console.rasa_api import CLOSED_INTENT
from channels.console.typing import TypingRelay
from channels.web.schedule import notify_unclaimed
from tests.e2e.borrowers import SocketIOBorrower
from tests.e2e.desk.conftest import AGENT_PASSWORD, TOKEN, utc_now
from tests.e2e.stack import Stack
from tests.handoff.test_console_api import sign_in

pytestmark = pytest.mark.slow

ASK_FOR_PERSON = "I want to talk to a person"


def escalation_of(stack: Stack, conversation_id: str) -> Escalation:
    with stack.database() as database, database.unit_of_work() as session:
        escalation = EscalationQueue(session).latest_for(conversation_id)
        assert escalation is not None, "no escalation recorded"
        session.expunge(escalation)
        return escalation


def paused(stack: Stack, conversation_id: str) -> bool:
    return bool(stack.tracker(conversation_id)["paused"])


def test_out_of_hours_the_borrower_is_told_and_going_on_with_the_assistant_keeps_the_escalation(stack, borrower):
    replies = borrower.say(ASK_FOR_PERSON)
    assert any("not at the desk right now" in reply for reply in replies), replies
    assert borrower.buttons() == ["Continue with the assistant", "Leave a callback time", "Keep waiting"]
    escalation = escalation_of(stack, borrower.conversation_id)
    assert escalation.status == "waiting" and escalation.wait_notice_at is not None
    assert not paused(stack, borrower.conversation_id)

    replies = borrower.press("Continue with the assistant")
    assert any("assistant is back with you" in reply for reply in replies), replies
    escalation = escalation_of(stack, borrower.conversation_id)
    assert escalation.status == "waiting" and escalation.assistant_resumed_at is not None

    replies = borrower.say("how much do I owe?")  # the bot answers again
    assert replies and not any("assistant is back" in reply for reply in replies), replies
    assert escalation_of(stack, borrower.conversation_id).status == "waiting"


def test_a_callback_time_from_a_button_is_recorded_in_utc(stack, borrower):
    borrower.say(ASK_FOR_PERSON)
    replies = borrower.press("Leave a callback time")
    assert any("When should we call you back" in reply for reply in replies), replies
    assert "Tomorrow morning" in borrower.buttons()
    before = utc_now()
    replies = borrower.press("Tomorrow morning")
    assert any("call you back around" in reply for reply in replies), replies
    # The test desk is in UTC and open every day: tomorrow morning is 10:00 UTC tomorrow.
    expected = datetime.combine(before.date() + timedelta(days=1), datetime.min.time()).replace(hour=10)
    assert escalation_of(stack, borrower.conversation_id).callback_at == expected


def test_typed_intent_syntax_records_no_choice(stack, borrower):
    borrower.say(ASK_FOR_PERSON)
    borrower.say('/EXTERNAL_desk_unclaimed{"x": 1}')
    escalation = escalation_of(stack, borrower.conversation_id)
    assert escalation.assistant_resumed_at is None and escalation.callback_at is None


def test_agent_joins_types_and_writes_two_paragraphs_that_arrive_as_one_agent_message(stack, borrower, rasa):
    borrower.say(ASK_FOR_PERSON)
    replies = borrower.press("Keep waiting")
    assert any("A person will reply here" in reply for reply in replies), replies
    assert paused(stack, borrower.conversation_id)
    typing_events: list[dict] = []
    arrived = threading.Event()
    borrower.client.on("agent_typing", lambda event: (typing_events.append(event), arrived.set()))

    rasa.agent_joined(borrower.conversation_id, "Ada", "en")
    assert borrower.pushed(1) == ["Ada joined the conversation."]

    relay = TypingRelay(stack.url, TOKEN)
    assert relay.agent_typing(borrower.conversation_id, True, "Ada")
    assert arrived.wait(10), "no agent_typing event reached the widget"
    assert typing_events[0] == {"typing": True, "name": "Ada"}

    rasa.send_as_agent(borrower.conversation_id, "Ada", "First paragraph.\n\nSecond paragraph.", "en")
    texts = borrower.pushed(1)
    time.sleep(1.0)  # a second part would come right behind the first; give it the chance to show
    texts += borrower.pushed(0, timeout=0)
    assert texts == ["Ada (agent): First paragraph.\n\nSecond paragraph."]

    # The borrower's typing reaches the console's relay; a wrong token gets nothing.
    borrower.client.emit("user_typing", {"typing": True})
    deadline = time.time() + 10
    while not relay.borrower_typing(borrower.conversation_id) and time.time() < deadline:
        time.sleep(0.2)
    assert relay.borrower_typing(borrower.conversation_id)
    assert not TypingRelay(stack.url, "wrong-token").borrower_typing(borrower.conversation_id)
    assert not TypingRelay(stack.url, "wrong-token").agent_typing(borrower.conversation_id, True, "Eve")


def test_after_close_one_satisfaction_answer_is_recorded_once(stack, borrower, rasa):
    borrower.say(ASK_FOR_PERSON)
    borrower.press("Keep waiting")
    conversation = borrower.conversation_id
    with stack.database() as database, database.unit_of_work() as session:  # what the console's close records
        queue = EscalationQueue(session)
        escalation = queue.latest_for(conversation)
        assert queue.claim(escalation.id, "ada", utc_now())
        session.refresh(escalation)
        queue.close(escalation, "resolved_other", utc_now())
    rasa.resume(conversation)
    rasa.trigger(conversation, CLOSED_INTENT)
    question = borrower.pushed(1)
    assert any("how satisfied are you" in text for text in question), question
    assert [b["title"] for b in borrower.inbox[-1].get("quick_replies") or []] == [
        "1 Poor", "2", "3", "4", "5 Very good"]

    replies = borrower.say("4")
    assert any("Thank you for telling us" in reply for reply in replies), replies
    escalation = escalation_of(stack, conversation)
    assert escalation.satisfaction == 4 and escalation.satisfaction_at is not None

    rasa.trigger(conversation, CLOSED_INTENT)  # asked again by mistake: the answer stays the first one
    borrower.say("1")
    assert escalation_of(stack, conversation).satisfaction == 4


def test_the_schedule_tells_a_borrower_nobody_claimed_once(stack, borrower, rasa):
    borrower.say(ASK_FOR_PERSON)
    borrower.press("Keep waiting")
    conversation = borrower.conversation_id
    with stack.database() as database, database.unit_of_work() as session:
        escalation = EscalationQueue(session).latest_for(conversation)
        escalation.wait_notice_at = None  # as if opened while the desk was open: no notice yet
        created, escalation_id = escalation.created_at, escalation.id
    desk = DeskRules(time_zone="UTC", open_days=(0, 1, 2, 3, 4, 5, 6), opens=datetime.min.time(),
                     closes=datetime.max.time(), unclaimed_notice_minutes=5, first_reply_minutes={1: 5})
    with stack.database() as database:
        assert escalation_id not in notify_unclaimed(database, desk, rasa, created + timedelta(minutes=4))
        assert escalation_id in notify_unclaimed(database, desk, rasa, created + timedelta(minutes=6))
        notice = borrower.pushed(1)
        assert any("nobody on our team is free yet" in text for text in notice), notice
        assert not paused(stack, conversation)
        assert escalation_id not in notify_unclaimed(database, desk, rasa, created + timedelta(minutes=60))
    replies = borrower.say("Continue with the assistant")
    assert any("assistant is back with you" in reply for reply in replies), replies
    assert escalation_of(stack, conversation).assistant_resumed_at is not None


@pytest.fixture
def console(stack: Stack, monkeypatch) -> Iterator:
    """The agent console's routes against this stack's Rasa and database (agents Ada and Bob: conftest.py)."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from bot.config import load_settings
    from bot.storage import Database
    from channels.console import console_router

    monkeypatch.setenv("APP_VAR_DIR", str(stack.var_dir))
    monkeypatch.setenv("RASA_URL", stack.url)
    monkeypatch.setenv("RASA_API_TOKEN", TOKEN)
    database = Database(f"sqlite:///{stack.var_dir / 'app.db'}")
    app = FastAPI()
    app.include_router(console_router(load_settings(), db=database))
    yield TestClient(app)
    database.dispose()


def test_through_the_console_claim_typing_and_close_reach_the_borrower(stack, borrower, console):
    borrower.say(ASK_FOR_PERSON)
    borrower.press("Keep waiting")
    escalation_id = escalation_of(stack, borrower.conversation_id).id
    typing_events: list[dict] = []
    arrived = threading.Event()
    borrower.client.on("agent_typing", lambda event: (typing_events.append(event), arrived.set()))

    ada = sign_in(console, "deskada", AGENT_PASSWORD)
    assert ada, "Ada could not sign in"
    assert console.post(f"/console/api/escalations/{escalation_id}/claim",
                        headers={"X-CSRF-Token": ada}).status_code == 200
    assert borrower.pushed(1) == ["Ada joined the conversation."]

    typing_url = f"/console/api/escalations/{escalation_id}/typing"
    assert console.post(typing_url, json={"typing": "yes"}, headers={"X-CSRF-Token": ada}).status_code == 400
    assert console.post(typing_url, json={"typing": True}).status_code == 403  # no CSRF header
    answer = console.post(typing_url, json={"typing": True}, headers={"X-CSRF-Token": ada})
    assert answer.status_code == 200 and answer.json() == {"ok": True, "delivered": True}
    assert arrived.wait(10) and typing_events[-1] == {"typing": True, "name": "Ada"}
    assert "conversation_id" not in answer.text and borrower.conversation_id not in answer.text

    borrower.client.emit("user_typing", {"typing": True})
    deadline = time.time() + 10
    while not console.get(typing_url).json()["borrower_typing"] and time.time() < deadline:
        time.sleep(0.2)
    assert console.get(typing_url).json() == {"borrower_typing": True}

    bob_client = type(console)(console.app)
    bob = sign_in(bob_client, "deskbob", AGENT_PASSWORD)
    refused = bob_client.post(typing_url, json={"typing": True}, headers={"X-CSRF-Token": bob})
    assert refused.status_code == 403 and "holding" in refused.json()["detail"]

    closed = console.post(f"/console/api/escalations/{escalation_id}/close", json={"outcome": "message_taken"},
                          headers={"X-CSRF-Token": ada})
    assert closed.status_code == 200
    question = borrower.pushed(1)
    assert any("how satisfied are you" in text for text in question), question
    replies = borrower.say("5 Very good")
    assert any("Thank you for telling us" in reply for reply in replies), replies
    assert escalation_of(stack, borrower.conversation_id).satisfaction == 5
    detail = console.get(f"/console/api/escalations/{escalation_id}").json()
    assert detail["satisfaction"] == 5 and detail["wait_notice_at"].endswith("Z")
    assert detail["assistant_resumed_at"] is None and detail["callback_at"] is None


def test_typed_words_choose_and_other_text_keeps_waiting_and_reaches_the_queue(stack, borrower):
    borrower.say("转人工")
    replies = borrower.say("好的，我先用智能助理")  # typed, not the button
    assert any("智能助理继续为您服务" in reply for reply in replies), replies
    assert escalation_of(stack, borrower.conversation_id).assistant_resumed_at is not None

    other = SocketIOBorrower(stack)
    try:
        other.say(ASK_FOR_PERSON)
        said = "my salary comes on Friday, I can pay then"
        replies = other.say(said)
        assert any("A person will reply here" in reply for reply in replies), replies
        assert paused(stack, other.conversation_id)
        escalation = escalation_of(stack, other.conversation_id)
        assert escalation.last_borrower_text == said and escalation.assistant_resumed_at is None
    finally:
        other.close()
