"""The expected wait a borrower hears after their place in the queue: hand-worked numbers for the pure
estimate (bot/handoff/waiting.py), its wording in both languages, and action_handoff saying it from the
claims recorded in a real temporary database."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.common import utc_now
from actions.handoff import ActionHandoff
from bot.handoff.queue import EscalationQueue
from bot.handoff.waiting import MIN_CLAIMS_FOR_ESTIMATE, claim_minutes, expected_wait_minutes, rounded_wait
from bot.messages.waiting import expected_wait_text
from bot.negotiation.policy import DeskRules
from tests.handoff.test_actions import domain, responses, services, tracker  # noqa: F401  (fixtures)

DESK = DeskRules(time_zone="Asia/Shanghai", open_days=(0, 1, 2, 3, 4), opens=time(9), closes=time(18),
                 unclaimed_notice_minutes=5, first_reply_minutes={3: 60})
CLAIMS = [2.0, 4.0, 6.0, 8.0, 10.0]  # median 6 minutes


@pytest.mark.parametrize("seen, place, agents, minutes", [
    (CLAIMS, 1, 1, 6),             # next in line, one agent: the median
    (CLAIMS, 3, 2, 12),            # ceil(3 / 2) = 2 rounds of 6 minutes
    (CLAIMS, 4, 2, 12),            # ceil(4 / 2) = 2
    (CLAIMS, 5, 1, 30),            # 5 rounds of 6
    (CLAIMS, 2, 0, 12),            # nobody working right now: one agent is assumed
    ([1.5, 2.0, 2.5, 3.0, 0.5], 1, 1, 2),   # median 2.0
    ([0.1] * 5, 1, 1, 1),          # never "about 0 minutes"
    ([1, 2, 3, 4, 5, 6], 1, 1, 4),  # even count: median 3.5, rounded up to 4
    (CLAIMS[:4], 1, 1, None),      # four claims are too little data: the place only
    (CLAIMS, 0, 1, None),
])
def test_the_expected_wait_is_the_median_claim_time_times_the_rounds_ahead(seen, place, agents, minutes):
    assert MIN_CLAIMS_FOR_ESTIMATE == 5
    assert expected_wait_minutes(seen, place, agents) == minutes


def test_only_escalations_opened_while_the_desk_was_open_count():
    wednesday_10_local = datetime(2026, 12, 2, 2, 0)   # 10:00 in Shanghai: open
    tuesday_23_local = datetime(2026, 12, 1, 15, 0)    # 23:00 in Shanghai: closed, claimed next morning
    claims = [(wednesday_10_local, wednesday_10_local + timedelta(minutes=7)),
              (tuesday_23_local, tuesday_23_local + timedelta(hours=10)),
              (wednesday_10_local, wednesday_10_local - timedelta(minutes=1))]  # clock skew: not a claim time
    assert claim_minutes(DESK, claims) == [7.0]


@pytest.mark.parametrize("minutes, told", [(1, 1), (7, 7), (10, 10), (12, 10), (13, 15), (58, 60), (60, 60),
                                           (61, None), (300, None)])
def test_the_wait_told_is_rounded_to_what_the_data_can_say(minutes, told):
    assert rounded_wait(minutes) == told


@pytest.mark.parametrize("minutes, lang, text", [
    (1, "en", "The expected wait is about 1 minute."),
    (10, "en", "The expected wait is about 10 minutes."),
    (10, "zh", "预计等待时间约 10 分钟。"),
    (None, "en", "The expected wait is more than an hour."),
    (None, "zh", "预计等待时间超过一小时。"),
])
def test_the_expected_wait_is_said_in_the_borrowers_language(minutes, lang, text):
    assert expected_wait_text(minutes, lang) == text


def claimed(running, minutes: list[float], agents: list[str]) -> None:
    """Escalations of priority 3 opened in the last hour and claimed after `minutes`, by these agents in turn."""
    now = utc_now()
    with running.db.unit_of_work() as session:
        queue = EscalationQueue(session)
        for index, wait in enumerate(minutes):
            created = now - timedelta(minutes=50)
            escalation, _ = queue.open(conversation_id=f"past-{index}", channel="socketio", reason="request_human",
                                       priority=3, summary={"verified": False, "language": "en"}, language="en",
                                       now=created)
            assert queue.claim(escalation.id, agents[index % len(agents)], created + timedelta(minutes=wait))


@pytest.mark.parametrize("lang, said", [("en", "The expected wait is about 6 minutes."),
                                        ("zh", "预计等待时间约 6 分钟。")])
async def test_a_borrower_next_in_line_hears_the_measured_wait(services, domain, lang, said):  # noqa: F811
    claimed(services, CLAIMS, ["ada", "bob"])  # median 6 minutes; two agents working: place 1 is one round
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker("request_human", ["I want a person"], language=lang), domain)
    assert responses(dispatcher)[-2:] == ["utter_handoff_place", None]
    assert dispatcher.messages[-1]["text"] == said


async def test_with_too_little_data_the_borrower_hears_the_place_only(services, domain):  # noqa: F811
    claimed(services, CLAIMS[:4], ["ada"])
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker("request_human", ["I want a person"]), domain)
    assert responses(dispatcher) == ["utter_handoff_waiting", "utter_handoff_place"]


async def test_a_reopened_escalations_claim_is_not_a_wait(services, domain):  # noqa: F811
    claimed(services, CLAIMS, ["ada"])
    with services.db.unit_of_work() as session:
        queue = EscalationQueue(session)
        reopened = queue.latest_for("past-0")
        reopened.reopened_at = utc_now()  # five claims, one of them after a reopen: four count, too few
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker("request_human", ["I want a person"]), domain)
    assert responses(dispatcher) == ["utter_handoff_waiting", "utter_handoff_place"]
