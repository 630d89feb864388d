"""action_handoff and action_agent_handed_back against a real temporary database and the real domain."""
from __future__ import annotations

from bot.handoff.hours import desk_hours

import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Services, use_services, utc_now
from actions.handoff import ActionAgentHandedBack, ActionHandoff
from actions.negotiation import ActionNegotiate
from bot.agreements.models import Agreement, OfferRecord
from bot.config import load_settings
from bot.handoff.queue import EscalationQueue, summary_of
from bot.negotiation import load_policy
from bot.verification.service import LockoutRule, Outcome, verify_identity
from tests.conftest import PROJECT_ROOT
from tests.e2e.stack import desk_always_open


@pytest.fixture(scope="module")
def domain() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


@pytest.fixture
def services(demo_database, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    settings = load_settings()
    running = Services(settings=settings, db=demo_database, policy=desk_always_open(load_policy(settings.policy_path)))
    use_services(running)
    yield running
    use_services(None)


def tracker(intent: str, texts: list[str], **slots) -> Tracker:
    values = {"language": "en", "opened": True, "verified": False, **slots}
    events = []
    for text in texts:
        events += [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}},
                   {"event": "action", "name": "action_listen"}]
    return Tracker("conv-1", values, {"intent": {"name": intent}, "text": texts[-1]}, events, False, None,
                   {}, "action_listen")


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


def escalation(services):
    with services.db.unit_of_work() as session:
        return EscalationQueue(session).open_for("conv-1")


def verified_slots(services) -> dict:
    """Verify conv-1 as the server does (recorded in the database) and return the matching slots."""
    with services.db.unit_of_work() as session:
        result = verify_identity(session, loan_reference="HCF-1001", date_of_birth=date(1988, 4, 12),
                                 conversation_id="conv-1", channel="socketio", now=utc_now(), rule=LockoutRule())
    assert result.outcome is Outcome.VERIFIED
    return {"verified": True, "verified_loan_ref": "HCF-1001", "verified_at": time.time()}


async def test_request_for_a_person_records_a_waiting_escalation_and_pauses(services, domain):
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker("request_human", ["hi", "I want a person"]), domain)
    assert {"event": "pause", "timestamp": None} in events
    assert responses(dispatcher) == ["utter_handoff_waiting", "utter_handoff_place"]  # place 1: the only one waiting
    # Written from policy.yml's desk (the hours the desk keeps), no brackets: the messages add their own.
    assert dispatcher.messages[0]["agent_hours"] == desk_hours(services.policy.desk, "en")
    assert dispatcher.messages[0]["agent_hours_zh"] == desk_hours(services.policy.desk, "zh")
    recorded = escalation(services)
    assert (recorded.reason, recorded.priority, recorded.status) == ("request_human", 3, "waiting")
    summary = summary_of(recorded)
    assert summary["verified"] is False and "loan_ref" not in summary and "arrears" not in summary
    assert summary["last_messages"] == ["hi", "I want a person"]


async def test_a_verified_borrower_escalates_with_account_and_hardship_context(services, domain):
    slots = {**verified_slots(services), "hardship_cause": "medical", "monthly_income": "8000", "offers_made": "6 x 500 CNY",
             "proposed_offer": json.dumps({"monthly": "400.00", "months": 12, "authority": "agent"})}
    await ActionHandoff().run(CollectingDispatcher(), tracker("complain", ["this is unfair"], **slots), domain)
    assert escalation(services).reason == "complain"
    summary = summary_of(escalation(services))
    assert summary["loan_ref"] == "HCF-1001" and summary["currency"] == "CNY"
    assert float(summary["arrears"]) > 0
    assert summary["hardship_cause"] == "medical" and summary["monthly_income"] == "8000"
    assert summary["proposed_offer"]["months"] == 12


async def test_self_harm_hears_the_crisis_line_first_and_is_urgent(services, domain):
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker("self_harm", ["I don't want to live anymore"], opened=False),
                              domain)
    assert responses(dispatcher)[0] == "utter_crisis_support"
    assert dispatcher.messages[0]["crisis_line"] == services.settings.crisis_line
    assert dispatcher.messages[0]["crisis_line_zh"] == services.settings.crisis_line_zh
    assert "utter_handoff_waiting" in responses(dispatcher)
    assert (escalation(services).reason, escalation(services).priority) == ("self_harm", 1)


async def test_a_third_party_is_told_nothing_and_offered_to_leave_a_message(services, domain):
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker("third_party", ["I'm calling for my husband"],
                                                  **verified_slots(services)), domain)
    assert responses(dispatcher) == ["utter_third_party", "utter_handoff_place"]
    assert escalation(services).reason == "third_party"
    assert all("arrears" not in m and "loan_ref" not in m for m in dispatcher.messages)


async def test_a_second_trigger_updates_the_same_escalation(services, domain):
    await ActionHandoff().run(CollectingDispatcher(), tracker("complain", ["bad service"]), domain)
    await ActionHandoff().run(CollectingDispatcher(), tracker("dispute_debt", ["I already paid this"]), domain)
    with services.db.unit_of_work() as session:
        assert len(EscalationQueue(session).waiting()) == 1
    assert escalation(services).reason == "dispute_debt"


async def test_a_reason_set_by_the_negotiation_is_used_and_cleared(services, domain):
    events = await ActionHandoff().run(CollectingDispatcher(),
                                       tracker("counter_offer", ["can I pay 100"], handoff_reason="needs_approval"),
                                       domain)
    assert escalation(services).reason == "needs_approval"
    assert {"event": "slot", "timestamp": None, "name": "handoff_reason", "value": None} in events


async def test_chinese_borrowers_are_answered_in_chinese(services, domain):
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker("request_human", ["转人工"], language="zh"), domain)
    assert (escalation(services).reason, escalation(services).language) == ("request_human", "zh")
    # The zh variation is picked by Rasa from the `language` slot; the domain must have one.
    variations = domain["responses"]["utter_handoff_waiting"]
    assert any(v.get("condition") == [{"type": "slot", "name": "language", "value": "zh"}] for v in variations)


OFFER = {"concessions": ["spread_arrears", "fee_waiver"], "monthly": "500.00", "months": 6,
         "first_payment": "2026-12-05", "total_paid": "3000.00", "currency": "CNY", "authority": "agent",
         "grace_months": 0, "interest_waived_months": 0, "waived_fees": "180.00", "waived_interest": "0.00",
         "written_off": "0.00", "down_payment": "0.00", "extension_months": 0, "balance": "3000.00",
         "interest_accrues": True, "rule": "agent approval: fees waived", "policy_version": "test",
         "schedule": [{"number": n, "due": f"2027-{n:02d}-05", "amount": "500.00", "principal": "500.00",
                       "interest": "0.00"} for n in range(1, 7)]}


def escalation_with_approved_offer(services, *, hand_back_at: datetime | None) -> None:
    """conv-1 escalated for approval, the plan approved by Ada, handed back at `hand_back_at` (None: still hers)."""
    now = utc_now()
    with services.db.unit_of_work() as session:
        queue = EscalationQueue(session)
        opened, _ = queue.open(conversation_id="conv-1", channel="socketio", reason="needs_approval", priority=3,
                               summary={"verified": True, "language": "en", "proposed_offer": OFFER},
                               language="en", now=now)
        queue.claim(opened.id, "ada", now)
        session.refresh(opened)
        queue.approve_offer(opened, "ada", "agent", now)
        if hand_back_at is not None:
            queue.hand_back(opened, hand_back_at)


async def handed_back(services, domain, **slots) -> tuple[list[str], CollectingDispatcher, list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await ActionAgentHandedBack().run(
        dispatcher, tracker("EXTERNAL_agent_handed_back", ["/EXTERNAL_agent_handed_back"], **slots), domain)
    return responses(dispatcher), dispatcher, events


async def test_hand_back_presents_the_approved_offer_to_a_verified_borrower(services, domain):
    escalation_with_approved_offer(services, hand_back_at=utc_now())
    said, dispatcher, events = await handed_back(services, domain, **verified_slots(services))
    assert said == ["utter_back_with_bot", "utter_present_approved_offer"]
    presented = dispatcher.messages[1]
    assert presented["months"] == 6 and "500.00" in presented["monthly"] and "3,000.00" in presented["total"]
    assert presented["first_payment"] == "5 December 2026"
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots["stage"] == "confirm"
    offer_id = json.loads(slots["pending_offer"])["offer_record_id"]
    with services.db.unit_of_work() as session:
        shown = session.get(OfferRecord, offer_id)
    assert shown.conversation_id == "conv-1" and json.loads(shown.terms_json)["monthly"] == "500.00"


async def test_the_approved_plan_is_signed_once_from_the_database_on_i_agree(services, domain):
    escalation_with_approved_offer(services, hand_back_at=utc_now())
    verified = verified_slots(services)
    _, _, events = await handed_back(services, domain, **verified)
    slots = {**verified, **{e["name"]: e["value"] for e in events if e.get("event") == "slot"}}
    for attempt in ("I agree", "I agree"):
        dispatcher = CollectingDispatcher()
        await ActionNegotiate().run(dispatcher, tracker("accept_agreement", [attempt], **slots), domain)
    with services.db.unit_of_work() as session:
        agreements = session.execute(select(Agreement)).scalars().all()
    assert len(agreements) == 1
    assert json.loads(agreements[0].terms_json)["terms"]["schedule"] == OFFER["schedule"]


@pytest.mark.parametrize("slots", [
    {"verified": False},
    {"verified": True, "verified_loan_ref": "HCF-1001"},  # the slots claim it; the database does not
], ids=["unverified", "claimed-by-slots-only"])
async def test_an_unverified_borrower_hears_the_bot_is_back_but_no_plan(services, domain, slots):
    escalation_with_approved_offer(services, hand_back_at=utc_now())
    said, _, events = await handed_back(services, domain, **slots, verified_at=time.time())
    assert said == ["utter_back_with_bot", "utter_satisfaction_question"] and events == []


async def test_a_typed_hand_back_intent_while_the_agent_holds_the_conversation_does_nothing(services, domain):
    escalation_with_approved_offer(services, hand_back_at=None)
    said, _, events = await handed_back(services, domain, **verified_slots(services))
    assert said == [] and events == []


async def test_a_hand_back_is_acted_on_once(services, domain):
    escalation_with_approved_offer(services, hand_back_at=utc_now())
    slots = verified_slots(services)
    first, _, _ = await handed_back(services, domain, **slots)
    again, _, events = await handed_back(services, domain, **slots)  # typed by the borrower afterwards
    assert first == ["utter_back_with_bot", "utter_present_approved_offer"]
    assert again == [] and events == []


async def test_an_old_hand_back_is_not_acted_on(services, domain):
    escalation_with_approved_offer(services, hand_back_at=utc_now() - timedelta(hours=3))
    said, _, events = await handed_back(services, domain, **verified_slots(services))
    assert said == [] and events == []


async def test_a_typed_hand_back_intent_without_any_escalation_does_nothing(services, domain):
    said, _, events = await handed_back(services, domain)
    assert said == [] and events == []


async def test_hand_back_without_an_offer_only_says_the_bot_is_back(services, domain):
    with services.db.unit_of_work() as session:
        queue = EscalationQueue(session)
        opened, _ = queue.open(conversation_id="conv-1", channel="socketio", reason="request_human", priority=3,
                               summary={"verified": False, "language": "en"}, language="en", now=utc_now())
        queue.claim(opened.id, "ada", utc_now())
        session.refresh(opened)
        queue.hand_back(opened, utc_now())
    said, _, events = await handed_back(services, domain)
    assert said == ["utter_back_with_bot", "utter_satisfaction_question"] and events == []
