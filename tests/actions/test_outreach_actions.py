"""The conversation side of follow-up: the proactive message discloses nothing, verification
starts over, the details come after verifying again, and STOP works right after it."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from actions.common import utc_now
from actions.conversation import ActionFallback, ActionSmallTalk
from actions.negotiation import ActionNegotiate
from actions.outreach import ActionOutreach
from actions.verification import ActionVerifyIdentity
from bot.accounts.models import ContactOptOut
from bot.agreements.models import Agreement, PromiseToPay
from bot.outreach.models import (
    INSTALMENT_REMINDER, MISSED_INSTALMENT, MISSED_PROMISE, PROMISE_REMINDER, REASONS, REENGAGEMENT, RISK_CHECKIN,
    Contact,
)
from bot.verification.models import VerifiedSession
from tests.actions.conftest import bot_said, make_tracker, record_verification, responses, run, slot_events

SENDER = "telegram:4242"
IDENTITY = {"en": "HCF-1001 12/04/1988", "zh": "HCF-1001 1988年4月12日"}
DUE = date.today() + timedelta(days=1)


def rendered(messages: list[dict], domain: dict, lang: str) -> list[str]:
    """The texts the borrower reads: each response's variation for `lang`, filled like Rasa fills it."""
    texts = []
    for message in messages:
        variants = domain["responses"][message["response"]]
        chosen = next((v for v in variants if any(c.get("value") == lang for c in v.get("condition") or [])), None)
        chosen = chosen if lang == "zh" and chosen else next(v for v in variants if not v.get("condition"))
        values = {k: v for k, v in message.items() if k not in ("response", "buttons", "elements", "attachment")}
        texts.append(chosen["text"].format(**values))
    return texts


def subject_for(session, reason: str) -> str:
    """A promise or a plan on HCF-1001 for the contact to be about."""
    if reason in (PROMISE_REMINDER, MISSED_PROMISE):
        promise = PromiseToPay(conversation_id=SENDER, loan_reference="HCF-1001", amount="1234.50", due_on=DUE,
                               status="open" if reason == PROMISE_REMINDER else "broken", recorded_at=utc_now())
        session.add(promise)
        session.flush()
        return f"promise:{promise.id}"
    if reason in (INSTALMENT_REMINDER, MISSED_INSTALMENT):
        schedule = [{"number": n, "due": (DUE + timedelta(days=30 * (n - 2))).isoformat(), "amount": "987.65",
                     "principal": "900.00", "interest": "87.65"} for n in (1, 2, 3)]
        session.add(Agreement(reference="AGR-TEST-1", loan_reference="HCF-1001", conversation_id=SENDER,
                              borrower_name="Test", language="en", policy_version="t",
                              terms_json=json.dumps({"terms": {"schedule": schedule}}), acceptance_text="I agree",
                              accepted_at=utc_now()))
        return "agreement:AGR-TEST-1:2"
    return "loan:HCF-1001" if reason == RISK_CHECKIN else "conversation"


def add_contact(db, reason: str, lang: str = "en", sender: str = SENDER) -> int:
    with db.unit_of_work() as session:
        contact = Contact(key=f"{reason}:{lang}:{sender}", loan_reference="HCF-1001", conversation_id=sender,
                          channel="telegram", reason=reason, subject=subject_for(session, reason), language=lang,
                          jurisdiction="CN", due_at=utc_now(), status="claimed", created_at=utc_now())
        session.add(contact)
        session.flush()
        return contact.id


def external(contact_id: int, reason: str, slots: dict) -> object:
    tracker = make_tracker("", "EXTERNAL_outreach", slots=slots, sender=SENDER)
    tracker.latest_message["text"] = None
    tracker.latest_message["entities"] = [{"entity": "outreach_reason", "value": reason},
                                          {"entity": "contact_id", "value": contact_id}]
    return tracker


async def send_outreach(domain, contact_id: int, reason: str, slots: dict) -> tuple[list[dict], dict]:
    """Run action_outreach as Rasa would, following its FollowupAction (a language change) once."""
    messages, events = await run(ActionOutreach(), external(contact_id, reason, slots), domain)
    if any(e.get("event") == "followup" for e in events):
        slots = {**slots, **slot_events(events)}
        messages, more = await run(ActionOutreach(), external(contact_id, reason, slots), domain)
        events = events + more
    return messages, {**slots, **slot_events(events)}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("reason", REASONS)
async def test_the_proactive_message_discloses_nothing_and_ends_verification(services, domain, reason, lang):
    contact_id = add_contact(services.db, reason, lang)
    record_verification(services.db, "HCF-1001", sender=SENDER)
    verified = {"verified": True, "verified_loan_ref": "HCF-1001", "verified_at": 1.0, "language": "en"}
    messages, slots = await send_outreach(domain, contact_id, reason, verified)

    assert responses(messages) == ["utter_outreach_notice"]
    [text] = rendered(messages, domain, slots["language"])
    assert slots["language"] == lang
    assert services.settings.lender_name in text
    assert ("回复 退订" in text and "自动化智能助手" in text) if lang == "zh" else ("Reply STOP" in text
                                                                              and "automated assistant" in text)
    assert not re.search(r"\d", text.replace(services.settings.lender_name, "")), text  # no amount, date, reference
    assert "HCF" not in text.replace(services.settings.lender_name, "")
    assert slots["verified"] is False and slots["verified_loan_ref"] is None
    assert slots["outreach_contact"] == str(contact_id) and slots["outreach_reason"] == reason
    with services.db.unit_of_work() as session:
        assert session.execute(select(VerifiedSession).where(VerifiedSession.conversation_id == SENDER,
                                                             VerifiedSession.ended_at.is_(None))).first() is None


async def test_a_contact_for_another_conversation_is_ignored(services, domain):
    contact_id = add_contact(services.db, PROMISE_REMINDER, sender="web:someone-else")
    record_verification(services.db, "HCF-1001", sender=SENDER)
    messages, slots = await send_outreach(domain, contact_id, PROMISE_REMINDER, {"verified": True})
    assert messages == [] and slots.get("outreach_contact") is None
    with services.db.unit_of_work() as session:
        assert session.execute(select(VerifiedSession).where(VerifiedSession.ended_at.is_(None))).first()


async def test_a_reply_to_the_reminder_asks_for_verification_before_anything(services, domain):
    contact_id = add_contact(services.db, PROMISE_REMINDER)
    _, slots = await send_outreach(domain, contact_id, PROMISE_REMINDER, {"verified": True, "language": "en"})
    for action, text, intent in ((ActionNegotiate(), "ok", "affirm"), (ActionSmallTalk(), "hi", "greet"),
                                 (ActionSmallTalk(), "what is it?", "ask_purpose"),
                                 (ActionFallback(), "what is it?", "nlu_fallback")):
        messages, _ = await run(action, make_tracker(text, intent, slots=slots, sender=SENDER,
                                                     asked=["utter_outreach_notice"]), domain)
        assert "utter_ask_identity" in responses(messages), (text, responses(messages))
        assert not {"utter_arrears", "utter_outreach_promise_due"} & set(responses(messages))


EXPECTED = {
    PROMISE_REMINDER: (["utter_verified", "utter_outreach_promise_due", "utter_how_can_i_help"], "1,234.50"),
    INSTALMENT_REMINDER: (["utter_verified", "utter_outreach_instalment_due", "utter_how_can_i_help"], "987.65"),
    MISSED_PROMISE: (["utter_verified", "utter_outreach_promise_missed", "utter_outreach_new_arrangement",
                      "utter_ask_cause"], "1,234.50"),
    # The plan missed was this year's renegotiation (policy.yml anti_stalling): a person arranges the next one.
    MISSED_INSTALMENT: (["utter_verified", "utter_outreach_instalment_missed", "utter_outreach_arrangement_with_person"],
                        "987.65"),
    REENGAGEMENT: (["utter_verified", "utter_arrears", "utter_ask_cause"], "3,930.00"),
    # An early-warning check-in is about no payment in particular: the usual statement and question.
    RISK_CHECKIN: (["utter_verified", "utter_arrears", "utter_ask_cause"], "3,930.00"),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("reason", REASONS)
async def test_verifying_again_tells_what_the_contact_was_about(services, domain, reason, lang):
    contact_id = add_contact(services.db, reason, lang)
    _, slots = await send_outreach(domain, contact_id, reason, {"language": "en"})
    tracker = make_tracker(IDENTITY[lang], "provide_identity", slots=slots, sender=SENDER,
                           asked=["utter_outreach_notice"])
    messages, events = await run(ActionVerifyIdentity(), tracker, domain)

    expected, amount = EXPECTED[reason]
    got = [r for r in responses(messages) if r != "utter_welcome_back"]
    assert got == expected
    texts = " ".join(rendered(messages, domain, lang))
    assert amount in texts
    if reason not in (REENGAGEMENT, RISK_CHECKIN):
        assert ("App" in texts) if lang == "zh" else ("bank transfer" in texts)
        assert (f"{DUE.year}年{DUE.month}月{DUE.day}日" if lang == "zh" else f"{DUE.day} ") in texts
    assert slot_events(events)["verified"] is True
    assert slot_events(events)["outreach_contact"] is None


async def test_a_different_loan_verified_is_told_nothing_of_the_contact(services, domain):
    contact_id = add_contact(services.db, PROMISE_REMINDER)
    _, slots = await send_outreach(domain, contact_id, PROMISE_REMINDER, {"language": "en"})
    messages, _ = await run(ActionVerifyIdentity(), make_tracker("HCF-2002 3 Nov 1992", "provide_identity",
                                                                 slots=slots, sender=SENDER), domain)
    assert "utter_outreach_promise_due" not in responses(messages)
    assert "1,234.50" not in " ".join(rendered(messages, domain, "en"))


@pytest.mark.parametrize("text, lang", [("STOP", "en"), ("stop messaging me", "en"), ("退订", "zh"), ("TD", "zh"),
                                        ("不要再给我发消息了", "zh")])
async def test_stop_right_after_a_reminder_records_the_opt_out_with_the_channel(services, domain, text, lang):
    contact_id = add_contact(services.db, PROMISE_REMINDER, lang)
    _, slots = await send_outreach(domain, contact_id, PROMISE_REMINDER, {"language": "en"})
    # Whatever the classifier made of it (here: a misread), the keyword is an opt-out.
    tracker = make_tracker(text, "nlu_fallback", slots=slots, sender=SENDER, asked=["utter_outreach_notice"])
    tracker.events[-1]["input_channel"] = "telegram"
    messages, _ = await run(ActionFallback(), tracker, domain)
    assert responses(messages) == ["utter_stop_contact_recorded"]
    with services.db.unit_of_work() as session:
        row = session.execute(select(ContactOptOut)).scalar_one()
    assert (row.conversation_id, row.loan_reference, row.channel) == (SENDER, "HCF-1001", "telegram")


@pytest.mark.parametrize("text", ["STOP", "退订"])
async def test_stop_mid_negotiation_is_an_opt_out(services, domain, text):
    record_verification(services.db, "HCF-1001", sender=SENDER)
    tracker = make_tracker(text, "choose_option", sender=SENDER, asked=["utter_choose_offer"],
                           slots={"verified": True, "verified_loan_ref": "HCF-1001", "stage": "offers"})
    messages, _ = await run(ActionNegotiate(), tracker, domain)
    assert responses(messages) == ["utter_stop_contact_recorded"]
    with services.db.unit_of_work() as session:
        assert session.execute(select(ContactOptOut.loan_reference)).scalar_one() == "HCF-1001"


def test_every_outreach_response_has_both_languages(domain):
    for name in [n for n in domain["responses"] if n.startswith("utter_outreach_")]:
        variants = domain["responses"][name]
        assert [v.get("condition") for v in variants] == [[{"type": "slot", "name": "language", "value": "zh"}], None]


def test_bot_said_helper_marks_the_notice_as_a_question():
    from actions.understanding import current_step
    tracker = make_tracker("HCF-1001", "greet", events=[*bot_said("utter_outreach_notice"),
                                                       {"event": "user", "text": "HCF-1001"}])
    assert current_step(tracker).expect.value == "identity"
