"""The short conversation-outcome evaluation against the real servers: the hard invariants.

Fixed wording seed (override with EVAL_SEED) so that `make test` is repeatable; the full
report (`make eval`) varies the wording per run.
"""
from __future__ import annotations

import os

import pytest

from evaluation.personas import short_personas
from evaluation.report import run_all, summarise
from evaluation.simulator import classify

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


def test_classify_recognises_the_bot_acts_in_both_languages():
    assert classify(["Which option works for you?", "Option 1: CNY 1.00 a month for 2 payments"]) == "offers"
    assert classify(["那每月的必要开支大约多少？"]) == "ask_costs"
    assert classify(["Thank you! Your agreement is recorded, reference AGR-20261128-E46EA3."]) == "agreement"
    assert classify(["whatever"]) == "unknown"
