"""Issue 11 through the actions: at most two real alternatives, the next rung only after a "no",
and one rule for the good-faith payment stated with the offer, the terms and the document."""
from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select

from actions.conversation import ActionFallback
from bot.agreements.models import OfferRecord
from tests.actions.conftest import responses
from tests.actions.test_negotiation_actions import Borrower, by_response


async def alex_sees_offers(domain) -> tuple[Borrower, list[dict]]:
    alex = Borrower("HCF-1001")
    await alex.says("I had big medical bills", "explain_hardship", domain)
    await alex.says("I earn 9,000 a month", "inform_finances", domain)
    return alex, await alex.says("rent and bills about 7200", "inform_finances", domain)


def shown(services) -> list[dict]:
    with services.db.unit_of_work() as session:
        return [json.loads(r.terms_json) | {"rule": r.rule}
                for r in session.execute(select(OfferRecord).order_by(OfferRecord.id)).scalars()]


async def test_the_options_shown_together_are_real_alternatives(services, domain):
    _, messages = await alex_sees_offers(domain)
    offers = by_response(messages, "utter_offer")
    assert 1 <= len(offers) <= 2
    terms = shown(services)
    figures = [(Decimal(t["monthly"]), len(t["schedule"]), Decimal(t["total_paid"])) for t in terms]
    for a in figures:
        for b in figures:
            assert not (all(x <= y for x, y in zip(b, a)) and b != a), f"{a} is dominated by {b}"
    assert len({t["rule"] for t in terms}) == 1, "options shown together are on one rung"


async def test_no_to_the_options_brings_the_next_rung_then_a_person(services, domain):
    alex, _ = await alex_sees_offers(domain)
    first_rung = {t["rule"] for t in shown(services)}
    messages = await alex.says("no, none of those work for me", "deny", domain)
    assert responses(messages)[0] == "utter_next_rung"
    assert by_response(messages, "utter_offer") and alex.slots["declined_rungs"] == 1
    second_rung = {t["rule"] for t in shown(services)} - first_rung
    assert second_rung and "interest_waiver" in " ".join(second_rung)
    messages = await alex.says("no", "deny", domain)
    assert "utter_agent_review" in responses(messages)
    assert alex.slots["handoff_reason"] == "needs_approval"


async def test_no_to_one_option_s_terms_goes_back_to_the_options(services, domain):
    alex, _ = await alex_sees_offers(domain)
    await alex.says("option 1", "choose_option", domain)
    messages = await alex.says("Not this one", "deny", domain)
    assert responses(messages) == ["utter_no_problem"] and alex.slots.get("declined_rungs") is None


async def test_a_grace_plan_states_its_good_faith_payment_with_the_offer_and_the_terms(services, domain):
    wang = Borrower("HCF-2002", language="zh")
    await wang.says("我失业了，大概两个月后能找到新工作", "explain_hardship", domain)
    await wang.says("现在没有收入", "inform_finances", domain)
    messages = await wang.says("每个月必要开销大概三千块", "inform_finances", domain)
    offers = by_response(messages, "utter_offer")
    assert offers and all("请在" in o["good_faith"] and "100.00" in o["good_faith"] for o in offers)
    assert all("无需还款" in o["concessions"] for o in offers)
    terms = shown(services)[0]
    # the monthly payments start after the grace months, not on the good-faith date
    assert terms["schedule"][0]["amount"] == "100.00" and offers[0]["first_payment"] != terms["good_faith_due"]
    messages = await wang.says("方案1", "choose_option", domain)
    confirm = by_response(messages, "utter_confirm_terms")[0]
    assert confirm["good_faith"] == offers[0]["good_faith"]


async def test_details_spell_out_the_payments_then_the_choice_is_asked_again(services, domain):
    alex, messages = await alex_sees_offers(domain)
    count = len(by_response(messages, "utter_offer"))
    details = await alex.sends(ActionFallback(), "details please", "nlu_fallback", domain)
    shown_details = by_response(details, "utter_offer_details")
    assert len(shown_details) == count and responses(details)[-1] == "utter_choose_offer"
    assert shown_details[0]["schedule"].startswith("1. ") and "…" in shown_details[0]["schedule"]
    await alex.says("option 1", "choose_option", domain)
    again = await alex.says("明细", "ask_options", domain)
    assert responses(again) == ["utter_offer_details", "utter_ask_confirm_again"]
    assert by_response(again, "utter_offer_details")[0]["index"] == 1
