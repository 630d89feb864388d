"""Verification and arrears actions against a real temporary database and the real domain."""
from __future__ import annotations

import time

from datetime import timedelta

from sqlalchemy import func, select, update

import pytest

from actions.account import ActionShowArrears, ActionStopContact
from actions.common import utc_now
from actions.conversation import ActionFallback, ActionSmallTalk
from actions.verification import ActionVerifyIdentity
from bot.accounts.models import ContactOptOut
from bot.verification.models import VerificationAttempt, VerifiedSession
from bot.verification.settings import lender_timezone
from bot.verification.wording import pause_end_text
from tests.actions.conftest import make_tracker, record_verification, responses, run, slot_events


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
    _, events = await run(ActionVerifyIdentity(), make_tracker("HCF-1001 12/04/1988", "provide_identity"), domain)
    idle = timedelta(minutes=services.settings.verification_idle_minutes)
    with services.db.unit_of_work() as session:
        session.execute(update(VerifiedSession).values(last_seen_at=utc_now() - idle - timedelta(seconds=5)))
    fresh_slots = {**slot_events(events), "verified_at": time.time()}  # the slot's own clock is not the judge
    messages, _ = await run(ActionShowArrears(), make_tracker("how much do I owe", "ask_arrears", slots=fresh_slots),
                            domain)
    assert responses(messages) == ["utter_ask_identity"]


FORGED = {"verified": True, "verified_loan_ref": "HCF-1001", "verified_at": time.time()}


async def test_slots_claiming_verification_without_the_servers_record_disclose_nothing(services, domain):
    messages, events = await run(ActionShowArrears(), make_tracker("how much do I owe", "ask_arrears",
                                                                   slots=FORGED), domain)
    assert responses(messages) == ["utter_ask_identity"]
    assert not any("arrears" in m or "loan_ref" in m for m in messages)
    messages, _ = await run(ActionVerifyIdentity(), make_tracker("it's me", "provide_identity", slots=FORGED), domain)
    assert responses(messages) == ["utter_ask_identity"]


async def test_verification_in_one_conversation_does_not_verify_another_with_the_same_slots(services, domain):
    messages, events = await run(ActionVerifyIdentity(), make_tracker(
        "HCF-1001 12/04/1988", "provide_identity", sender="conversation-a"), domain)
    assert "utter_arrears" in responses(messages)
    copied = slot_events(events)  # conversation A's slots, sent by someone else as conversation B
    messages, _ = await run(ActionShowArrears(), make_tracker(
        "how much do I owe", "ask_arrears", slots=copied, sender="conversation-b"), domain)
    assert responses(messages) == ["utter_ask_identity"]
    messages, _ = await run(ActionShowArrears(), make_tracker(
        "how much do I owe", "ask_arrears", slots=copied, sender="conversation-a"), domain)
    assert responses(messages) == ["utter_arrears"] and messages[0]["loan_ref"] == "HCF-1001"


async def test_the_servers_record_decides_which_loan_whatever_the_slot_says(services, domain):
    record_verification(services.db, "HCF-4004")
    messages, _ = await run(ActionShowArrears(), make_tracker("how much do I owe", "ask_arrears", slots=FORGED),
                            domain)
    assert responses(messages) == ["utter_nothing_overdue"] and messages[0]["loan_ref"] == "HCF-4004"


async def test_after_the_dialogue_resets_its_slots_the_borrower_verifies_again(services, domain):
    record_verification(services.db, "HCF-1001")  # still on record, but Rasa restarted the conversation
    messages, _ = await run(ActionShowArrears(), make_tracker("how much do I owe", "ask_arrears"), domain)
    assert responses(messages) == ["utter_ask_identity"]


async def test_stop_contact_with_forged_slots_is_recorded_without_a_loan(services, domain):
    await run(ActionStopContact(), make_tracker("stop contacting me", "stop_contact", slots=FORGED), domain)
    with services.db.unit_of_work() as session:
        assert session.execute(select(ContactOptOut.loan_reference)).scalars().all() == [None]


async def test_a_conversation_trying_many_references_is_told_plainly_when_it_may_try_again(services, domain):
    chinese = {"language": "zh"}
    for ref in ["HCF-1001", "HCF-2002", "HCF-3003", "HCF-4004"]:
        messages, _ = await run(ActionVerifyIdentity(), make_tracker(
            f"{ref} 1990年1月1日", "provide_identity", slots=chinese), domain)
        assert responses(messages) == ["utter_verification_failed"]
    messages, _ = await run(ActionVerifyIdentity(), make_tracker(
        "HCF-5005 1990年1月1日", "provide_identity", slots=chinese), domain)
    assert responses(messages) == ["utter_verification_locked_conversation"]
    with services.db.unit_of_work() as session:
        fifth = session.execute(select(func.max(VerificationAttempt.attempted_at))).scalar_one()
    said = pause_end_text(fifth + timedelta(minutes=30), "zh", lender_timezone())
    assert messages[0]["locked_until"] == said and said.startswith(str(fifth.year)) and "（" in said
    zh_text = domain["responses"]["utter_verification_locked_conversation"][0]["text"]
    assert "{locked_until}" in zh_text and "对话" in zh_text
    # Even the right pair is refused now, and nothing is disclosed.
    messages, events = await run(ActionVerifyIdentity(), make_tracker(
        "HCF-2002 1992年11月3日", "provide_identity", slots=chinese), domain)
    assert responses(messages) == ["utter_verification_locked_conversation"]
    assert "verified" not in slot_events(events)


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


def user(text: str, intent: str = "nlu_fallback") -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def bot(response: str) -> dict:
    return {"event": "bot", "text": "...", "metadata": {"utter_action": response}}


async def test_a_third_misunderstanding_in_a_row_hands_over_to_a_person(services, domain):
    events = [user("asdf"), bot("utter_did_not_understand"), user("qwer"), bot("utter_offer_person"), user("zxcv")]
    messages, returned = await run(ActionFallback(), make_tracker("zxcv", "nlu_fallback", events=events), domain)
    assert messages == []
    assert slot_events(returned) == {"handoff_reason": "repeated_misunderstanding"}
    assert returned[-1] == {"event": "followup", "timestamp": None, "name": "action_handoff"}


async def test_the_second_misunderstanding_offers_the_choices_with_a_person_as_buttons(services, domain):
    events = [user("weather?", "out_of_scope"), bot("utter_out_of_scope"), user("pizza?", "out_of_scope")]
    messages, returned = await run(ActionFallback(), make_tracker("pizza?", "out_of_scope", events=events), domain)
    assert responses(messages) == ["utter_offer_person"] and returned == []
    for variation in domain["responses"]["utter_offer_person"]:
        assert {"Talk to a person", "转人工"} & {b["title"] for b in variation["buttons"]}


@pytest.mark.parametrize("contentless", ["   ", "\u3000\n", "🙂", "👍👍", "…", "?!"])
async def test_messages_without_words_get_a_prompt_and_never_count_as_misunderstandings(services, domain, contentless):
    # whitespace, then an emoji, after one real misread: still a prompt, and no hand-over
    events = [user("asdf"), bot("utter_did_not_understand"), user("   "), bot("utter_empty_message"), user(contentless)]
    messages, returned = await run(ActionFallback(), make_tracker(contentless, "nlu_fallback", events=events), domain)
    assert responses(messages) == ["utter_empty_message"] and returned == []
    # and the next real misread is only the second in a row
    events += [bot("utter_empty_message"), user("qwer")]
    messages, _ = await run(ActionFallback(), make_tracker("qwer", "nlu_fallback", events=events), domain)
    assert responses(messages) == ["utter_offer_person"]


@pytest.mark.parametrize("answer", ["12 Apr 1988", "Apr 12 1988", "12 April 1988", "April 12, 1988", "12.04.1988",
                                    "1988年4月12日", "12/04/1988"])
async def test_a_date_of_birth_after_the_question_verifies_whatever_the_classifier_said(services, domain, answer):
    tracker = make_tracker(answer, "nlu_fallback", slots={"pending_loan_ref": "HCF-1001"})
    messages, events = await run(ActionFallback(), tracker, domain)
    assert "utter_verified" in responses(messages) and "utter_arrears" in responses(messages), responses(messages)
    assert slot_events(events)["verified"] is True


async def test_identity_inside_a_greeting_is_read(services, domain):
    messages, events = await run(ActionSmallTalk(), make_tracker("hi, HCF-1001 here, born 12 Apr 1988", "greet"),
                                 domain)
    assert "utter_arrears" in responses(messages) and slot_events(events)["verified"] is True


async def test_empty_and_huge_messages_get_their_own_answers(services, domain):
    messages, _ = await run(ActionFallback(), make_tracker("   ", "nlu_fallback"), domain)
    assert responses(messages) == ["utter_empty_message"]
    messages, _ = await run(ActionFallback(), make_tracker("x" * 5000, "nlu_fallback"), domain)
    assert responses(messages) == ["utter_message_too_long"]
