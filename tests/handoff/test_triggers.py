"""Which intents hand over to a person, and how urgently."""
from bot.handoff.triggers import trigger_for


def test_self_harm_is_urgent():
    trigger = trigger_for("self_harm")
    assert (trigger.reason, trigger.priority) == ("self_harm", 1)


def test_dispute_vulnerability_and_legal_threats_come_next():
    for intent in ("vulnerable", "dispute_debt", "legal_threat"):
        assert trigger_for(intent).priority == 2


def test_ordinary_requests_are_normal_priority():
    for intent in ("request_human", "complain", "third_party", "legal_representation", "abuse"):
        trigger = trigger_for(intent)
        assert (trigger.reason, trigger.priority) == (intent, 3)


def test_a_reason_set_by_an_action_wins_over_an_ordinary_intent():
    assert trigger_for("counter_offer", "needs_approval").reason == "needs_approval"
    assert trigger_for("promise_to_pay", "stalling").reason == "stalling"


def test_a_more_urgent_intent_beats_a_stale_reason():
    trigger = trigger_for("self_harm", "needs_approval")
    assert (trigger.reason, trigger.priority) == ("self_harm", 1)


def test_an_unknown_intent_still_reaches_a_person():
    assert trigger_for(None).priority == 3
