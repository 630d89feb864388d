"""Verification and arrears actions against a real temporary database and the real domain."""
from __future__ import annotations

import time

from actions.account import ActionShowArrears, ActionStopContact
from actions.conversation import ActionFallback
from actions.verification import ActionVerifyIdentity
from bot.accounts.models import ContactOptOut
from tests.actions.conftest import make_tracker, responses, run, slot_events
from sqlalchemy import select


async def test_identity_in_one_message_verifies_and_states_the_arrears(services, domain):
    messages, events = await run(ActionVerifyIdentity(), make_tracker("HCF-1001 12/04/1988", "provide_identity"), domain)
    assert responses(messages)[:2] == ["utter_verified", "utter_arrears"]
    arrears = messages[1]
    assert arrears["arrears"] == "CNY 3,930.00" and arrears["days_past_due"] == 75
    assert arrears["late_fees"] == "CNY 180.00"
    assert slot_events(events)["verified"] is True
    assert slot_events(events)["verified_loan_ref"] == "HCF-1001"


async def test_every_response_the_actions_use_exists_in_the_domain(services, domain):
    messages, _ = await run(ActionVerifyIdentity(), make_tracker("HCF-2002 1992年11月3日", "provide_identity",
                                                                 slots={"language": "zh"}), domain)
    for name in responses(messages):
        assert name in domain["responses"]
    assert messages[1]["arrears"] == "¥2,400.00"


async def test_first_message_of_a_conversation_gets_the_opening(services, domain):
    messages, events = await run(ActionVerifyIdentity(), make_tracker("hello", "greet", slots={"opened": False}), domain)
    assert responses(messages) == ["utter_opening", "utter_ask_identity"]
    assert slot_events(events)["opened"] is True


async def test_partial_identity_is_kept_and_the_missing_part_asked(services, domain):
    messages, events = await run(ActionVerifyIdentity(), make_tracker("it's HCF-1001", "provide_identity"), domain)
    assert responses(messages) == ["utter_ask_dob"]
    assert slot_events(events) == {"pending_loan_ref": "HCF-1001"}
    messages, events = await run(ActionVerifyIdentity(), make_tracker(
        "12 April 1988", "provide_identity", slots={"pending_loan_ref": "HCF-1001"}), domain)
    assert "utter_arrears" in responses(messages)


async def test_arrears_before_verification_disclose_nothing(services, domain):
    messages, events = await run(ActionShowArrears(), make_tracker("how much do I owe", "ask_arrears"), domain)
    assert responses(messages) == ["utter_ask_identity"]
    assert "verified" not in slot_events(events)


async def test_verification_expires_after_the_idle_period(services, domain):
    stale = time.time() - services.settings.verification_idle_minutes * 60 - 5
    messages, _ = await run(ActionShowArrears(), make_tracker("how much do I owe", "ask_arrears", slots={
        "verified": True, "verified_loan_ref": "HCF-1001", "verified_at": stale}), domain)
    assert responses(messages) == ["utter_ask_identity"]


async def test_database_down_gets_a_clear_answer_then_recovers(services, domain, tmp_path):
    db_file = services.db.url.removeprefix("sqlite:///")
    moved = tmp_path / "moved.db"
    services.db.dispose()
    import os
    os.rename(db_file, moved)
    try:
        messages, events = await run(ActionVerifyIdentity(), make_tracker("HCF-1001 1988-04-12", "provide_identity"), domain)
        assert responses(messages) == ["utter_service_unavailable"]
        assert "verified" not in slot_events(events)
    finally:
        services.db.dispose()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db_file + suffix):
                os.remove(db_file + suffix)
        os.rename(moved, db_file)
    messages, events = await run(ActionVerifyIdentity(), make_tracker("HCF-1001 1988-04-12", "provide_identity"), domain)
    assert "utter_arrears" in responses(messages)


async def test_stop_contact_is_recorded(services, domain):
    messages, _ = await run(ActionStopContact(), make_tracker("stop contacting me", "stop_contact"), domain)
    assert responses(messages) == ["utter_stop_contact_recorded"]
    with services.db.unit_of_work() as session:
        rows = session.execute(select(ContactOptOut)).scalars().all()
    assert [r.conversation_id for r in rows] == ["test-conversation"]


async def test_two_misunderstandings_in_a_row_hand_over_to_a_person(services, domain):
    first = {"event": "user", "text": "asdf", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    second = {"event": "user", "text": "qwer", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    messages, events = await run(ActionFallback(), make_tracker("qwer", "nlu_fallback", events=[first, second]), domain)
    assert messages == []
    assert slot_events(events) == {"handoff_reason": "repeated_misunderstanding"}
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_handoff"}


async def test_two_out_of_scope_questions_in_a_row_offer_a_person(services, domain):
    first = {"event": "user", "text": "weather?", "parse_data": {"intent": {"name": "out_of_scope"}}}
    second = {"event": "user", "text": "pizza?", "parse_data": {"intent": {"name": "out_of_scope"}}}
    messages, _ = await run(ActionFallback(), make_tracker("pizza?", "out_of_scope", events=[first, second]), domain)
    assert responses(messages) == ["utter_offer_person"]


async def test_empty_and_huge_messages_get_their_own_answers(services, domain):
    messages, _ = await run(ActionFallback(), make_tracker("   ", "nlu_fallback"), domain)
    assert responses(messages) == ["utter_empty_message"]
    messages, _ = await run(ActionFallback(), make_tracker("x" * 5000, "nlu_fallback"), domain)
    assert responses(messages) == ["utter_message_too_long"]
