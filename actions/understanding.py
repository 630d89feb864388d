"""The turn as the assistant takes it: the tracker's last question and message, read by
``bot.dialogue`` (context first, then the classifier), and the action that handles it."""
from __future__ import annotations

from rasa_sdk import Tracker

from bot.dialogue import Step, Understanding, step_after, understand

# Which action answers which intent: the same table as data/rules (a unit test compares them).
ROUTES: dict[str, str] = {
    **dict.fromkeys(("greet", "bot_challenge", "ask_purpose", "goodbye", "thanks"), "action_small_talk"),
    "provide_identity": "action_verify_identity",
    "ask_arrears": "action_show_arrears",
    "wrong_person": "action_wrong_person",
    "stop_contact": "action_stop_contact",
    "nlu_fallback": "action_fallback",
    "out_of_scope": "action_fallback",
    **dict.fromkeys(("explain_hardship", "inform_finances", "counter_offer", "promise_to_pay", "ask_options",
                     "pay_in_full", "accept_agreement", "choose_option", "refuse_to_pay", "affirm", "deny"),
                    "action_negotiate"),
    **dict.fromkeys(("request_human", "complain", "dispute_debt", "legal_representation", "vulnerable",
                     "self_harm", "abuse", "legal_threat", "third_party"), "action_handoff"),
    "EXTERNAL_agent_handed_back": "action_agent_handed_back",
    "EXTERNAL_outreach": "action_outreach",
    "EXTERNAL_desk_unclaimed": "action_desk_unclaimed",
    "EXTERNAL_agent_closed": "action_agent_closed",
}


def last_bot_turn(tracker: Tracker) -> list[str]:
    """The responses the bot sent between the borrower's previous message and the latest one."""
    responses: list[str] = []
    users_seen = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "session_started":
            break
        if kind == "user":
            users_seen += 1
            if users_seen == 2:
                break
        elif kind == "bot" and users_seen == 1:
            responses.append((event.get("metadata") or {}).get("utter_action"))
    return list(reversed([r for r in responses if r]))


def said_in_session(tracker: Tracker, response: str) -> bool:
    """Whether the bot sent ``response`` earlier in this session."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return False
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == response:
            return True
    return False


def current_step(tracker: Tracker) -> Step | None:
    return step_after(last_bot_turn(tracker))


_last_reading: tuple[tuple, Understanding] | None = None


def understood(tracker: Tracker, today) -> Understanding:
    """This turn's reading: the last question's expectation first, then the classifier.

    Read once per turn: the base action and the negotiation both ask, and the parsers are not
    free. The reading depends only on the inputs in the key, so a repeat is the same reading.
    """
    global _last_reading
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    ranking = message.get("intent_ranking") or []
    step = current_step(tracker)
    classified = (message.get("intent") or {}).get("name")
    key = (text, tuple((r.get("name"), r.get("confidence")) for r in ranking), step, today, classified)
    if _last_reading is not None and _last_reading[0] == key:
        return _last_reading[1]
    reading = understand(text, ranking, step, today, classified=classified)
    _last_reading = (key, reading)
    return reading
