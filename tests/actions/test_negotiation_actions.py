"""The negotiation conversation through the real action, database and policy (no Rasa server)."""
from __future__ import annotations

import json
import time
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from actions.common import services, utc_now
from actions.negotiation import ActionNegotiate
from bot.language import parse_option
from bot.verification.sessions import start_verified_session
from bot.agreements.models import Agreement, OfferRecord
from bot.agreements.links import agreement_token
from tests.actions.conftest import make_tracker, responses, run, slot_events


class Borrower:
    """Carries slots from turn to turn as Rasa would."""

    def __init__(self, loan_ref: str, language: str = "en", conversation_id: str = "test-conversation") -> None:
        self.slots = {"verified": True, "verified_loan_ref": loan_ref, "verified_at": time.time(),
                      "language": language, "stage": "cause"}
        self.asked = ["utter_ask_cause"]  # what the bot said last: the step the next message answers
        # Verified as the server records it (the slots alone verify nothing).
        with services().db.unit_of_work() as session:
            start_verified_session(session, conversation_id=conversation_id, loan_reference=loan_ref,
                                   channel="rest", now=utc_now())

    async def says(self, text: str, intent: str, domain: dict) -> list[dict]:
        return await self.sends(ActionNegotiate(), text, intent, domain)

    async def sends(self, action, text: str, intent: str, domain: dict) -> list[dict]:
        """`text`, classified as `intent`, reaching `action` (as Rasa's rules would choose it)."""
        messages, events = await run(action, make_tracker(text, intent, slots=self.slots, asked=self.asked), domain)
        self.slots.update(slot_events(events))
        self.events = events
        self.asked = responses(messages)
        return messages


def by_response(messages: list[dict], name: str) -> list[dict]:
    return [m for m in messages if m.get("response") == name]


async def test_alex_medical_bills_gets_a_term_extension_and_signs(services, domain):
    alex = Borrower("HCF-1001")
    messages = await alex.says("I had big medical bills this year", "explain_hardship", domain)
    assert responses(messages) == ["utter_ack_hardship", "utter_ask_income"]
    assert alex.slots["hardship_cause"] == "illness"
    assert responses(await alex.says("I earn 9,000 a month", "inform_finances", domain)) == ["utter_ask_costs"]
    messages = await alex.says("rent and bills about 7200", "inform_finances", domain)
    assert by_response(messages, "utter_surplus")[0]["surplus"] == "CNY 1,800.00"
    offers = by_response(messages, "utter_offer")
    assert 1 <= len(offers) <= 3
    assert "extended by" in offers[0]["concessions"] and "spread" in offers[0]["concessions"]
    with services.db.unit_of_work() as session:
        shown = session.execute(select(OfferRecord)).scalars().all()
    assert len(shown) == len(offers)
    first = json.loads(shown[0].terms_json)
    assert Decimal(first["monthly"]) <= Decimal("1260.00")  # 70% of the 1,800 surplus
    assert first["extension_months"] <= 6 and "term_extension" in first["concessions"]
    assert shown[0].rule and shown[0].policy_version

    assert responses(await alex.says("option 1", "choose_option", domain)) == ["utter_confirm_terms"]
    messages = await alex.says("I agree", "accept_agreement", domain)
    signed = by_response(messages, "utter_agreement_signed")[0]
    link = by_response(messages, "utter_agreement_link")[0]
    assert signed["reference"].startswith("AGR-") and "/agreements/" in link["url"]
    with services.db.unit_of_work() as session:
        agreement = session.execute(select(Agreement)).scalar_one()
        record = json.loads(agreement.terms_json)
    assert agreement.acceptance_text == "I agree"
    assert record["balance"]["arrears"] == "3930.00" and record["terms"]["monthly"] == first["monthly"]
    assert sum(Decimal(i["amount"]) for i in record["terms"]["schedule"]) == Decimal(record["terms"]["total_paid"])


async def test_agreement_link_opens_only_its_agreement_and_only_with_a_valid_token(services, domain):
    from channels.web.app import create_app

    alex = Borrower("HCF-1001")
    await alex.says("medical bills", "explain_hardship", domain)
    await alex.says("I earn 9000 and my costs are 7200", "inform_finances", domain)
    await alex.says("1", "choose_option", domain)
    reference = by_response(await alex.says("I agree", "accept_agreement", domain), "utter_agreement_signed")[0]["reference"]
    client = TestClient(create_app(services.settings))
    good = client.get(f"/agreements/{reference}", params={"t": agreement_token(services.settings.link_secret, reference)})
    assert good.status_code == 200 and reference in good.text and "Alex Morgan" in good.text
    assert client.get(f"/agreements/{reference}", params={"t": "forged"}).status_code == 403
    other = agreement_token(services.settings.link_secret, "AGR-OTHER")
    assert client.get(f"/agreements/{reference}", params={"t": other}).status_code == 403


async def test_wang_fang_without_income_gets_a_grace_period_with_interest_waived(services, domain):
    wang = Borrower("HCF-2002", language="zh")
    await wang.says("上个月我失业了，大概两个月后能找到新工作", "explain_hardship", domain)
    assert wang.slots["hardship_cause"] == "job_loss" and wang.slots["recovery_months"] == 2
    await wang.says("现在没有收入", "inform_finances", domain)
    messages = await wang.says("每月开支三千", "inform_finances", domain)
    offers = by_response(messages, "utter_offer")
    assert offers, responses(messages)
    assert "个月无需还款" in offers[0]["concessions"] and "减免" in offers[0]["concessions"]


async def test_counter_offer_below_what_policy_allows_is_refused_with_an_alternative(services, domain):
    alex = Borrower("HCF-1001")
    await alex.says("I lost my job", "explain_hardship", domain)
    await alex.says("I earn 9000, costs 7200", "inform_finances", domain)
    messages = await alex.says("I can only pay 500 a month", "counter_offer", domain)
    names = responses(messages)
    assert names[0] in ("utter_counter_too_long", "utter_counter_below_floor")
    assert "utter_nearest_offer" in names and "utter_offer" in names


async def test_counter_offer_within_limits_is_recomputed_for_confirmation(services, domain):
    alex = Borrower("HCF-1001")
    await alex.says("medical bills", "explain_hardship", domain)
    await alex.says("I earn 9000 and spend 7200", "inform_finances", domain)
    messages = await alex.says("can we do 1200 per month", "counter_offer", domain)
    assert responses(messages)[0] == "utter_counter_accepted"
    assert "utter_confirm_terms" in responses(messages)
    assert by_response(messages, "utter_offer")[0]["monthly"] == "CNY 1,200.00"


async def test_a_second_plan_within_the_year_goes_to_a_person(services, domain):
    alex = Borrower("HCF-1001")
    await alex.says("medical bills", "explain_hardship", domain)
    await alex.says("I earn 9000 and spend 7200", "inform_finances", domain)
    await alex.says("1", "choose_option", domain)
    await alex.says("I agree", "accept_agreement", domain)
    again = Borrower("HCF-1001")
    again.slots.update(monthly_income="9000.00", monthly_costs="7200.00", hardship_cause="illness", stage="offered")
    await again.says("can I get a new plan?", "ask_options", domain)
    assert again.slots["handoff_reason"] == "stalling"
    assert any(e.get("event") == "followup" and e.get("name") == "action_handoff" for e in again.events)


async def test_promise_to_pay_within_the_horizon_is_recorded(services, domain):
    chen = Borrower("HCF-3003", language="zh")
    messages = await chen.says("我下周五还980", "promise_to_pay", domain)
    assert responses(messages) == ["utter_promise_recorded"]
    messages = await chen.says("我两个月后还980", "promise_to_pay", domain)
    assert responses(messages) in (["utter_promise_refused"], ["utter_ask_promise_details"])


async def test_nothing_overdue_means_nothing_to_negotiate(services, domain):
    jordan = Borrower("HCF-4004")
    assert responses(await jordan.says("can I pay in instalments", "ask_options", domain)) == ["utter_nothing_to_negotiate"]


def test_option_numbers_in_both_languages():
    assert [parse_option(t) for t in ("option 2", "the first one", "选第三个", "方案二", "2", "no idea")] == \
        [2, 1, 3, 2, 2, None]


async def test_unclassified_answers_are_read_in_the_context_of_the_question(services, domain):
    from actions.conversation import ActionFallback

    wang = Borrower("HCF-2002", language="zh")
    await wang.says("我失业了，两个月后能找到工作", "explain_hardship", domain)
    await wang.says("没有收入", "inform_finances", domain)
    messages = await wang.sends(ActionFallback(), "开支三千", "nlu_fallback", domain)
    assert "utter_offer" in responses(messages)
    assert responses(await wang.sends(ActionFallback(), "1", "nlu_fallback", domain)) == ["utter_confirm_terms"]
