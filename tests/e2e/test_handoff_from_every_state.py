"""Asking for a person reaches the handoff from every point of a conversation, on every channel,
and the escalation records why."""
from __future__ import annotations

import pytest

from channels.console.rasa_api import RasaConversations

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
def test_asking_for_a_person_pauses_the_bot_within_two_turns(fresh_stack, borrower, state, ask):
    for text in STATES[state]:
        borrower.say(text)
    replies = borrower.say(ask)
    if not borrower.paused():
        replies = borrower.say(ask)  # the second turn
    assert borrower.paused(), (state, replies)
    assert fresh_stack.escalation_reason(borrower.conversation_id) == "request_human"
    assert replies, "the borrower is told what happens next"
    assert borrower.say("hello?") == []  # the bot stays quiet while a person has it


def test_the_person_button_hands_over_from_the_offers(fresh_stack, borrower):
    for text in ALEX[:4]:
        borrower.say(text)
    borrower.press("Talk to a person")
    assert borrower.paused()
    assert fresh_stack.escalation_reason(borrower.conversation_id) == "request_human"


@pytest.mark.parametrize("text", ["honestly I don't want to live anymore", "我真的不想活了"])
def test_a_mention_of_self_harm_gets_support_and_an_urgent_person(fresh_stack, borrower, text):
    borrower.say("HCF-1001 1988-04-12" if text.isascii() else "HCF-2002 1992-11-03")
    replies = "\n".join(borrower.say(text))
    assert "400-161-9995" in replies  # the crisis line from configuration, before anything else
    assert borrower.paused()
    assert fresh_stack.escalation_reason(borrower.conversation_id) == "self_harm"


def test_an_agent_speaks_then_hands_back_and_the_bot_resumes_verified(fresh_stack, borrower):
    borrower.say("HCF-1001 1988-04-12")
    borrower.say("I want to talk to a real person")
    assert borrower.paused()
    assert fresh_stack.escalation_reason(borrower.conversation_id) == "request_human"
    console = RasaConversations(fresh_stack.url, "e2e-token")  # as the agent console drives Rasa
    try:
        console.send_as_agent(borrower.conversation_id, "Ada", "Hi, Ada here.", "en")
        texts = [e.get("text") for e in borrower.tracker()["events"] if e["event"] == "bot"]
        assert texts[-1] == "Ada (agent): Hi, Ada here."
        if borrower.channel != "rest":  # REST has no way to push; the others show it at once
            assert borrower.pushed(1) == ["Ada (agent): Hi, Ada here."]
        fresh_stack.record_hand_back(borrower.conversation_id, "ada")  # what the console records first
        console.resume(borrower.conversation_id)
        console.hand_back_intent(borrower.conversation_id)
    finally:
        console.close()
    if borrower.channel != "rest":
        assert "back with the automated assistant" in "\n".join(borrower.pushed(1))
    assert "3,930.00" in "\n".join(borrower.say("how much do I owe"))  # verified state kept
