"""The short conversation-outcome evaluation against the real servers: the hard invariants.

Fixed wording seed (override with EVAL_SEED) so that `make test` is repeatable; the full
report (`make eval`) varies the wording per run.
"""
from __future__ import annotations

import os

import pytest

from evaluation.personas import HANDOFF, PERSONAS, short_personas
from evaluation.report import run_all, summarise
from evaluation.simulator import Result, classify, handoff_reason

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("EVAL_SEED", "20261128"))


@pytest.fixture(scope="module")
def results(stack):
    results, _ = run_all(stack, short_personas(), SEED)
    return results


def transcript(result) -> str:
    return "\n".join(f">> {t.user}  [{t.intent}]\n" + "\n".join(f"   {r}" for r in t.replies)
                     for t in result.transcript)


def test_the_short_set_covers_every_outcome_in_both_languages():
    personas = short_personas()
    assert {p.expected for p in personas} == {"agreement", "promise", "handoff", "no_disclosure_end",
                                              "pay_in_full_instructions"}
    assert {p.language for p in personas} == {"en", "zh"}


def test_nothing_is_disclosed_before_verification(results):
    leaks = [(r.persona, d) for r in results for d in r.disclosures]
    assert summarise(results)["disclosures_before_verification"] == 0, leaks


def test_no_offer_is_outside_policy(results):
    breaches = [(r.persona, o.breaches, o.text) for r in results for o in r.policy_breaches]
    assert summarise(results)["offers_outside_policy"] == 0, breaches
    assert summarise(results)["offers_checked_for_affordability"] > 0  # the check did look at offers


@pytest.mark.parametrize("key", [p.key for p in short_personas()])
def test_each_short_persona_reaches_its_expected_outcome(results, key):
    result = next(r for r in results if r.persona == key)
    assert result.error is None, result.error
    assert result.got == result.expected, transcript(result)
    if result.expected == HANDOFF:
        assert result.handoff_reason == result.expected_handoff_reason, transcript(result)
    assert result.ok


def test_the_handoff_reason_read_from_the_tracker_is_the_one_recorded(results, stack):
    handoffs = [r for r in results if r.got == HANDOFF]
    assert handoffs
    assert {r.persona: r.handoff_reason for r in handoffs} == {
        r.persona: stack.escalation_reason(f"rest:{r.sender}") for r in handoffs}


def _events(*steps):
    events = []
    for kind, value in steps:
        if kind == "user":
            events.append({"event": "user", "text": "x", "parse_data": {"intent": {"name": value}}})
        elif kind == "slot":
            events.append({"event": "slot", "name": "handoff_reason", "value": value})
        else:
            events.append({"event": kind, "name": value})
    return {"events": events}


def test_the_handoff_reason_is_the_one_action_handoff_records():
    misread = _events(("user", "nlu_fallback"), ("action", "action_fallback"), ("slot", "repeated_misunderstanding"),
                      ("action", "action_handoff"), ("slot", None), ("pause", None))
    assert handoff_reason(misread) == "repeated_misunderstanding"
    assert handoff_reason(_events(("user", "request_human"), ("action", "action_handoff"), ("pause", None))) \
        == "request_human"
    stalling = _events(("user", "ask_options"), ("action", "action_negotiate"), ("slot", "stalling"),
                       ("action", "action_handoff"), ("slot", None), ("pause", None))
    assert handoff_reason(stalling) == "stalling"
    # A more urgent intent wins over the reason an action set, as in bot.handoff.triggers.
    assert handoff_reason(_events(("user", "self_harm"), ("slot", "stalling"), ("action", "action_handoff"))) \
        == "self_harm"
    assert handoff_reason(_events(("user", "greet"), ("action", "action_small_talk"))) is None


def test_a_handoff_counts_only_for_the_personas_reason():
    def result(reason):
        return Result("wants_person_en", "wants a person", "en", HANDOFF, HANDOFF, "s", 1, 2, False,
                      handoff_reason=reason, expected_handoff_reason="request_human")
    assert result("request_human").ok
    assert not result("repeated_misunderstanding").ok
    assert not result("abuse").ok
    assert all((p.handoff_reason is not None) == (p.expected == HANDOFF) for p in PERSONAS)
    assert "repeated_misunderstanding" not in {p.handoff_reason for p in PERSONAS}


def test_classify_recognises_the_bot_acts_in_both_languages():
    assert classify(["Which option works for you?", "Option 1: CNY 1.00 a month for 2 payments"]) == "offers"
    assert classify(["那每月的必要开支大约多少？"]) == "ask_costs"
    assert classify(["Thank you! Your agreement is recorded, reference AGR-20261128-E46EA3."]) == "agreement"
    assert classify(["whatever"]) == "unknown"
