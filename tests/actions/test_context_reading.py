"""Issue 10, context-first reading, through the real actions: a reply is read against the
question the bot asked before the classifier's intent decides, and every fact of a message
is kept (tests/unit/test_dialogue_understanding.py covers the reading itself)."""
from __future__ import annotations

import pytest

from actions.conversation import ActionFallback, ActionSmallTalk
from actions.account import ActionShowArrears
from tests.actions.conftest import make_tracker, responses, run, slot_events
from tests.actions.test_negotiation_actions import Borrower, by_response


@pytest.mark.parametrize("action, classified", [(ActionSmallTalk(), "goodbye"), (ActionFallback(), "nlu_fallback"),
                                                (ActionShowArrears(), "ask_arrears")])
@pytest.mark.parametrize("dob", ["12 Apr 1988", "Apr 12 1988", "12th April, 1988", "1988年4月12日"])
async def test_a_date_of_birth_after_the_question_verifies_whatever_the_classifier_said(services, domain, action,
                                                                                       classified, dob):
    tracker = make_tracker(dob, classified, slots={"pending_loan_ref": "HCF-1001"}, asked=["utter_ask_dob"])
    messages, events = await run(action, tracker, domain)
    assert responses(messages)[:2] == ["utter_verified", "utter_arrears"]
    assert slot_events(events)["verified_loan_ref"] == "HCF-1001"


async def test_the_same_words_without_the_question_are_left_to_the_classifier(services, domain):
    messages, _ = await run(ActionSmallTalk(), make_tracker("bye", "goodbye", asked=["utter_ask_dob"]), domain)
    assert responses(messages) == ["utter_goodbye"]


async def test_costs_given_when_income_was_asked_are_costs(services, domain):
    wang = Borrower("HCF-2002", language="zh")
    await wang.says("我失业了", "explain_hardship", domain)
    assert wang.asked[-1] == "utter_ask_income"
    messages = await wang.says("每个月 essential 开销大概 3000", "inform_finances", domain)
    assert (wang.slots["monthly_costs"], wang.slots["monthly_income"]) == ("3000.00", None)
    assert responses(messages) == ["utter_ask_income"]  # still the open question
    messages = await wang.sends(ActionFallback(), "收入现在是零", "nlu_fallback", domain)
    assert wang.slots["monthly_income"] == "0.00"
    assert "utter_surplus" in responses(messages)


async def test_a_fact_out_of_turn_keeps_those_already_given(services, domain):
    """Telling when work resumes, while asked about costs, must not restart the income question."""
    wang = Borrower("HCF-2002", language="zh")
    await wang.says("我失业了", "explain_hardship", domain)
    await wang.says("现在没有收入", "inform_finances", domain)
    assert wang.asked[-1] == "utter_ask_costs"
    messages = await wang.says("大概两个月以后能找到新工作", "explain_hardship", domain)
    assert wang.slots["monthly_income"] == "0.00" and wang.slots["recovery_months"] == 2
    assert wang.slots["hardship_temporary"] is True
    assert responses(messages)[-1] == "utter_ask_costs"


async def test_cause_income_and_costs_in_one_message_go_straight_to_the_offers(services, domain):
    alex = Borrower("HCF-1001")
    messages = await alex.says("my hours got cut, I bring home about 9000 and rent plus bills come to 7200",
                               "explain_hardship", domain)
    assert alex.slots["hardship_cause"] == "reduced_income"
    assert by_response(messages, "utter_surplus")[0]["surplus"] == "CNY 1,800.00"
    assert by_response(messages, "utter_offer")
    assert alex.slots["stage"] == "offered"


async def test_a_cause_and_a_counter_offer_in_one_message_keep_both(services, domain):
    alex = Borrower("HCF-1001")
    messages = await alex.says("I lost my job in March, could I do 800 a month?", "counter_offer", domain)
    assert alex.slots["hardship_cause"] == "job_loss"
    counter = [m for m in messages if m["response"].startswith("utter_counter")]
    assert counter and counter[0]["amount"] == "CNY 800.00"


async def test_a_bare_number_after_the_options_is_an_option_whatever_the_classifier_said(services, domain):
    alex = Borrower("HCF-1001")
    await alex.says("I had big medical bills", "explain_hardship", domain)
    await alex.says("I earn 9,000 a month", "inform_finances", domain)
    await alex.says("rent and bills about 7200", "inform_finances", domain)
    assert alex.asked[-1] == "utter_choose_offer"
    messages = await alex.sends(ActionSmallTalk(), "1", "greet", domain)
    assert responses(messages) == ["utter_confirm_terms"]
    messages = await alex.sends(ActionSmallTalk(), "ok", "greet", domain)
    assert "utter_agreement_signed" in responses(messages)


async def test_a_person_is_one_message_away_even_mid_question(services, domain):
    from actions.handoff import ActionHandoff

    alex = Borrower("HCF-1001")
    await alex.says("I had big medical bills", "explain_hardship", domain)
    messages = await alex.sends(ActionHandoff(), "9000 but I want a person", "request_human", domain)
    assert "utter_handoff_waiting" in responses(messages)
    assert alex.slots.get("monthly_income") is None  # a person was asked for: nothing else was read


# --- issue 11: ask before concluding, resume after a side question -------------------------

async def test_job_loss_told_figures_first_is_asked_when_work_resumes_before_any_conclusion(services, domain):
    """The founding job-loss case in the other order: no income, costs, then the recovery time."""
    wang = Borrower("HCF-2002", language="zh")
    await wang.says("我失业了", "explain_hardship", domain)
    await wang.says("现在没有收入", "inform_finances", domain)
    messages = await wang.says("每个月必要开销大概三千块", "inform_finances", domain)
    assert responses(messages)[-1] == "utter_ask_recovery"
    assert "utter_no_sustainable_plan" not in responses(messages)
    messages = await wang.sends(ActionFallback(), "大概两个月以后能找到新工作", "nlu_fallback", domain)
    assert wang.slots["recovery_months"] == 2
    offers = by_response(messages, "utter_offer")
    assert offers and all("2 个月无需还款" in o["concessions"] or "无需还款" in o["concessions"] for o in offers)


async def test_not_knowing_when_income_recovers_concludes_without_asking_again(services, domain):
    wang = Borrower("HCF-2002", language="zh")
    await wang.says("我失业了", "explain_hardship", domain)
    await wang.says("现在没有收入", "inform_finances", domain)
    await wang.says("每个月必要开销大概三千块", "inform_finances", domain)
    messages = await wang.sends(ActionFallback(), "不知道", "nlu_fallback", domain)
    assert "utter_ask_recovery" not in responses(messages)
    assert any(e.get("name") == "action_handoff" for e in wang.events if e.get("event") == "followup")


async def test_a_side_question_mid_flow_is_answered_then_the_open_question_asked_again(services, domain):
    alex = Borrower("HCF-1001")
    await alex.says("I had big medical bills", "explain_hardship", domain)
    assert alex.asked[-1] == "utter_ask_income"
    messages = await alex.sends(ActionShowArrears(), "how much do I owe again?", "ask_arrears", domain)
    assert responses(messages)[-1] == "utter_ask_income"
    messages = await alex.sends(ActionSmallTalk(), "wait, are you a bot?", "bot_challenge", domain)
    assert responses(messages) == ["utter_iamabot", "utter_ask_income"]
    await alex.says("I earn 9,000 a month", "inform_finances", domain)
    await alex.says("rent and bills about 7200", "inform_finances", domain)
    count = len(alex.slots["offers_made"])
    messages = await alex.sends(ActionSmallTalk(), "what is this about?", "ask_purpose", domain)
    assert responses(messages) == ["utter_purpose", "utter_choose_offer"]
    assert [b["title"] for b in messages[-1]["buttons"]][:count] == [f"Option {n}" for n in range(1, count + 1)]


async def test_a_plan_length_in_a_counter_offer_is_not_a_recovery_time(services, domain):
    alex = Borrower("HCF-1001")
    await alex.says("I lost my job, could I pay 900 a month for 18 months?", "counter_offer", domain)
    assert alex.slots["hardship_cause"] == "job_loss" and alex.slots.get("recovery_months") is None
