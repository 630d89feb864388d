"""Asking for a person reaches the handoff from every point of a conversation."""
from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.slow

ALEX = ["HCF-1001 1988-04-12", "I had big medical bills", "I earn 9000 a month", "my costs are 7200", "option 1"]
STATES = {
    "before verification": [],
    "half-verified (reference only)": ["my loan is HCF-1001"],
    "verified, asked why": ALEX[:1],
    "asked for income": ALEX[:2],
    "offers on the table": ALEX[:4],
    "confirming the terms": ALEX[:5],
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("ask", ["I want to talk to a real person", "转人工"])
def test_asking_for_a_person_pauses_the_bot_within_two_turns(fresh_stack, state, ask):
    me = f"e2e-{uuid.uuid4().hex}"
    for text in STATES[state]:
        fresh_stack.say(me, text)
    replies = fresh_stack.say(me, ask)
    if not any(e.get("event") == "pause" for e in fresh_stack.tracker(me)["events"]):
        replies = fresh_stack.say(me, ask)  # the second turn
    assert any(e.get("event") == "pause" for e in fresh_stack.tracker(me)["events"]), (state, replies)
    assert replies, "the borrower is told what happens next"
    assert fresh_stack.say(me, "hello?") == []  # the bot stays quiet while a person has it


@pytest.mark.parametrize("text", ["honestly I don't want to live anymore", "我真的不想活了"])
def test_a_mention_of_self_harm_gets_support_and_an_urgent_person(fresh_stack, text):
    me = f"e2e-{uuid.uuid4().hex}"
    fresh_stack.say(me, "HCF-1001 1988-04-12" if text.isascii() else "HCF-2002 1992-11-03")
    replies = "\n".join(fresh_stack.say(me, text))
    assert "400-161-9995" in replies  # the crisis line from configuration, before anything else
    assert any(e.get("event") == "pause" for e in fresh_stack.tracker(me)["events"])
