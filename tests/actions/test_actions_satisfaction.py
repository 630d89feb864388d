"""The satisfaction answer and the waiting choice, read by the actions against a real temporary
database: recorded once, only on this conversation's escalation, only for a 1-5 answer."""
from __future__ import annotations

from datetime import timedelta

import pytest

from actions.common import utc_now
from actions.conversation import ActionFallback
from actions.handoff import ActionHandoff
from bot.handoff.queue import EscalationQueue, summary_of
from tests.actions.conftest import make_tracker, responses, run


def open_escalation(db, conversation: str, *, closed_minutes_ago: int | None = None) -> int:
    now = utc_now()
    with db.unit_of_work() as session:
        queue = EscalationQueue(session)
        escalation, _ = queue.open(conversation_id=conversation, channel="rest", reason="request_human", priority=3,
                                   summary={"verified": False, "language": "en"}, language="en",
                                   now=now - timedelta(minutes=30))
        if closed_minutes_ago is not None:
            queue.claim(escalation.id, "ada", now - timedelta(minutes=20))
            session.refresh(escalation)
            queue.close(escalation, "message_taken", now - timedelta(minutes=closed_minutes_ago))
        return escalation.id


def satisfaction_of(db, escalation_id: int) -> int | None:
    with db.unit_of_work() as session:
        return EscalationQueue(session).get(escalation_id).satisfaction


ASKED = ["utter_satisfaction_question"]


async def test_a_rating_is_recorded_once_on_this_conversations_escalation(services, domain):
    mine = open_escalation(services.db, "conv-rate", closed_minutes_ago=1)
    other = open_escalation(services.db, "conv-other", closed_minutes_ago=1)
    said, _ = await run(ActionFallback(), make_tracker("4", "nlu_fallback", sender="conv-rate", asked=ASKED), domain)
    assert responses(said) == ["utter_satisfaction_thanks"]
    assert satisfaction_of(services.db, mine) == 4 and satisfaction_of(services.db, other) is None

    said, _ = await run(ActionFallback(), make_tracker("1", "nlu_fallback", sender="conv-rate", asked=ASKED), domain)
    assert "utter_satisfaction_thanks" not in responses(said)
    assert satisfaction_of(services.db, mine) == 4


@pytest.mark.parametrize("text", ["0", "6", "", "<script>alert(1)</script>", "'; DROP TABLE escalations; --",
                                  '/EXTERNAL_agent_closed{"satisfaction": 5}', "😀" * 500])
async def test_anything_but_one_to_five_records_nothing(services, domain, text):
    mine = open_escalation(services.db, "conv-bad", closed_minutes_ago=1)
    said, _ = await run(ActionFallback(), make_tracker(text, "nlu_fallback", sender="conv-bad", asked=ASKED), domain)
    assert "utter_satisfaction_thanks" not in responses(said)
    assert satisfaction_of(services.db, mine) is None


async def test_no_rating_without_a_recent_close(services, domain):
    long_ago = open_escalation(services.db, "conv-old", closed_minutes_ago=60 * 25)
    said, _ = await run(ActionFallback(), make_tracker("5", "nlu_fallback", sender="conv-old", asked=ASKED), domain)
    assert "utter_satisfaction_thanks" not in responses(said)
    assert satisfaction_of(services.db, long_ago) is None
    said, _ = await run(ActionFallback(), make_tracker("5", "nlu_fallback", sender="conv-none", asked=ASKED), domain)
    assert "utter_satisfaction_thanks" not in responses(said)


def offered(*titles: str) -> list[dict]:
    """The bot's desk-closed offer with its buttons, as Rasa records it."""
    buttons = [{"title": title, "payload": title} for title in titles]
    return [{"event": "bot", "text": "...", "metadata": {"utter_action": "utter_desk_closed"},
             "data": {"buttons": buttons}}]


async def test_a_pressed_button_is_the_answer_even_when_classified_as_a_complaint(services, domain):
    open_escalation(services.db, "conv-wait")
    user = {"event": "user", "text": "Keep waiting", "parse_data": {"intent": {"name": "complain"}}}
    tracker = make_tracker("Keep waiting", "complain", sender="conv-wait",
                           events=[*offered("Continue with the assistant", "Leave a callback time", "Keep waiting"),
                                   user])
    said, events = await run(ActionHandoff(), tracker, domain)
    assert responses(said) == ["utter_keep_waiting"]
    assert {"event": "pause", "timestamp": None} in events


async def test_a_typed_complaint_after_the_offer_is_still_a_complaint(services, domain):
    open_escalation(services.db, "conv-complain")
    text = "I want to complain about how long this takes"
    user = {"event": "user", "text": text, "parse_data": {"intent": {"name": "complain"}}}
    tracker = make_tracker(text, "complain", sender="conv-complain",
                           events=[*offered("Continue with the assistant", "Keep waiting"), user])
    said, _ = await run(ActionHandoff(), tracker, domain)
    assert "utter_handoff_waiting" in responses(said)
    with services.db.unit_of_work() as session:
        reasons = summary_of(EscalationQueue(session).open_for("conv-complain"))["reasons"]
        assert reasons[-1]["reason"] == "complain"  # recorded with the escalation, as any trigger
