"""Context-first reading (bot.dialogue): the question asked first, then the classifier."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import yaml

from actions.understanding import ROUTES
from bot.dialogue import ASKS, PROTECTED_INTENTS, Expect, step_after, understand
from bot.dialogue.expectations import STEPS
from bot.language import label_amounts, parse_amount, parse_yes_no
from tests.conftest import PROJECT_ROOT

TODAY = date(2026, 12, 1)
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


def ranking(*pairs: tuple[str, float]) -> list[dict]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def read(text: str, asked: str | None, *pairs: tuple[str, float], options: int = 0):
    step = step_after([asked]) if asked else None
    return understand(text, ranking(*pairs), step, TODAY)


# --- the registry ------------------------------------------------------------------------

def test_every_declared_question_is_a_response_of_the_domain():
    assert set(ASKS) <= set(DOMAIN["responses"])
    assert set(STEPS) == set(Expect)


@pytest.mark.parametrize("response", sorted(r for r in DOMAIN["responses"] if r.startswith(("utter_ask_",
                                                                                           "utter_choose"))))
def test_every_question_of_the_domain_declares_what_it_expects(response):
    assert response in ASKS, f"{response} asks something: declare its expectation in bot/dialogue/expectations.py"


def test_routes_are_the_rules_of_the_dialogue():
    """ROUTES (used to hand a re-read turn to its action) must say what data/rules says."""
    from_rules: dict[str, str] = {}
    for path in sorted((PROJECT_ROOT / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text()).get("rules", []):
            steps = rule["steps"]
            actions = [s["action"] for s in steps if "action" in s]
            intents = [s["intent"] for s in steps if "intent" in s]
            intents += [i["intent"] for s in steps for i in s.get("or", []) if "intent" in i]
            for intent in intents:
                from_rules[intent] = actions[0]
    assert from_rules == {intent: action for intent, action in ROUTES.items() if intent in from_rules}
    assert set(ROUTES) - set(from_rules) == set(), "every route has a rule"


# --- answers that satisfy the question -----------------------------------------------------

@pytest.mark.parametrize("text", ["1 Jan 1990", "Jan 1 1990", "12 Apr 1988", "12 April 1988", "April 12, 1988",
                                  "12.04.1988", "12/04/1988", "1988-04-12", "1988年4月12日", "一九八八年四月十二日",
                                  "the 12th of April 1988", "Apr. 12, 1988", "88年4月12日"])
@pytest.mark.parametrize("classified", ["goodbye", "greet", "nlu_fallback", "out_of_scope", "inform_finances"])
def test_a_date_of_birth_after_the_question_is_identity_whatever_the_classifier_said(text, classified):
    turn = read(text, "utter_ask_dob", (classified, 0.7))
    assert (turn.intent, turn.answered) == ("provide_identity", True)


def test_a_person_stays_reachable_whatever_was_asked():
    for asked in ASKS:
        turn = read("agent please, born 1 Jan 1990, 3000", asked, ("request_human", 0.9))
        assert turn.intent == "request_human" and not turn.reread
    # below the fallback threshold too: the top of the ranking asks for a person
    turn = read("hmm", "utter_choose_offer", ("nlu_fallback", 0.45), ("request_human", 0.4), ("deny", 0.3))
    assert turn.intent == "nlu_fallback"
    assert PROTECTED_INTENTS.isdisjoint(frozenset().union(*(step.fitting for step in STEPS.values())))


@pytest.mark.parametrize("text, asked, options, intent", [
    ("2", "utter_choose_offer", 3, "choose_option"),
    ("方案二", "utter_which_option", 2, "choose_option"),
    ("3", "utter_choose_offer", 2, "choose_option"),  # a wrong number: the negotiation asks which option
    ("could I do 800 a month?", "utter_choose_offer", 3, "counter_offer"),
    ("800", "utter_choose_offer", 3, "counter_offer"),
    ("nope", "utter_choose_offer", 3, "deny"),
    ("好的", "utter_confirm_terms", 1, "affirm"),
    ("no thanks", "utter_confirm_terms", 1, "deny"),
    ("开支三千", "utter_ask_costs", 0, "inform_finances"),
    ("nothing coming in", "utter_ask_income", 0, "inform_finances"),
    ("收入现在是零", "utter_ask_income", 0, "inform_finances"),
    ("my knee replacement cost far more than the insurance paid", "utter_ask_cause", 0, "explain_hardship"),
    ("500 next friday", "utter_ask_promise_details", 0, "promise_to_pay"),
    ("HCF-1001", "utter_ask_loan_ref", 0, "provide_identity"),
])
def test_replies_that_satisfy_the_question(text, asked, options, intent):
    turn = read(text, asked, ("greet", 0.8), options=options)
    assert turn.intent == (intent or "greet")
    assert turn.answered is (intent is not None)


def test_the_classifier_keeps_an_intent_that_fits_the_step():
    """After the income question "I can pay 200" is still a counter-offer (it fits the step)."""
    assert read("I can pay 200 a month", "utter_ask_income", ("counter_offer", 0.8)).intent == "counter_offer"


def test_an_intent_that_fits_the_step_is_preferred_when_ranked_close():
    turn = read("I'll pass on that one", "utter_choose_offer", ("goodbye", 0.4), ("deny", 0.3), ("greet", 0.2),
                options=3)
    assert (turn.intent, turn.classified) == ("deny", "goodbye")
    far = read("I'll pass on that one", "utter_choose_offer", ("goodbye", 0.8), ("deny", 0.1), options=3)
    assert far.intent == "goodbye"  # not close: the classifier's reading stands


def test_without_a_question_the_classifier_decides():
    assert read("1 Jan 1990", None, ("goodbye", 0.7)).intent == "goodbye"


# --- amounts by what they are ---------------------------------------------------------------

@pytest.mark.parametrize("text, income, costs, offer, unlabelled", [
    ("my hours got cut, I bring home about 9000 and rent plus bills come to 7200", "9000", "7200", None, ()),
    ("每个月 essential 开销大概 3000", None, "3000", None, ()),
    ("I lost my job in March, could I do 200 a month?", None, None, "200", ()),
    ("收入8000，房租2500，吃饭1500", "8000", "4000", None, ()),
    ("我每月到手五千，开销三千五", "5000", "3500", None, ()),
    ("9000 income, 7200 costs", "9000", "7200", None, ()),
    ("收入现在是零", "0", None, None, ()),
    ("nothing coming in", "0", None, None, ()),
    ("I've got no income coming in at the moment", "0", None, None, ()),
    ("I have no income at all at the moment", "0", None, None, ()),
    ("没有收入，房租两千", "0", "2000", None, ()),
    ("3000", None, None, None, ("3000",)),
    ("I earn 2,500 a month", "2500", None, None, ()),
])
def test_amounts_are_labelled_by_their_words(text, income, costs, offer, unlabelled):
    money = label_amounts(text)
    as_text = lambda v: None if v is None else format(v.normalize(), "f")  # noqa: E731
    assert (as_text(money.income), as_text(money.costs), as_text(money.offer)) == (income, costs, offer)
    assert tuple(format(v.normalize(), "f") for v in money.unlabelled) == unlabelled


@pytest.mark.parametrize("text", ["收入现在是零", "nothing coming in", "没有任何进账", "not earning anything"])
def test_zero_in_words_is_an_amount(text):
    assert parse_amount(text) == Decimal("0.00")


@pytest.mark.parametrize("text", ["收入20000", "zero interest please", "nothing else to say"])
def test_not_every_zero_word_is_a_zero(text):
    assert parse_amount(text) != Decimal("0.00")


@pytest.mark.parametrize("text, answer", [("yes", True), ("OK!", True), ("好的。", True), ("我同意", True),
                                          ("no", False), ("不要这个方案", False), ("yes but can I pay less", None),
                                          ("", None)])
def test_a_plain_yes_or_no(text, answer):
    assert parse_yes_no(text) is answer


@pytest.mark.parametrize("text", ["details", "show me the schedule", "详细", "明细"])
def test_asking_for_details_after_the_options_is_a_question_about_them(text):
    for asked in ("utter_choose_offer", "utter_confirm_terms"):
        assert read(text, asked, ("out_of_scope", 0.6)).intent == "ask_options"
