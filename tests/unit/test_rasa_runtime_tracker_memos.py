"""`applied_events()` and `copy()` extended per event give what Rasa's own functions give.

Generated event sequences (slots, user and bot messages, follow-ups, restarts, new sessions, reverted
actions and messages, loops) are appended in random chunks; after each chunk the memoised answers
must equal Rasa's, also on a tracker whose memos were carried over to the same events decoded anew
(what the tracker store's cache does after a save).
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.core.events import (ActionExecuted, ActionReverted, ActiveLoop, BotUttered, FollowupAction,
                                     Restarted, SessionStarted, SlotSet, UserUttered, UserUtteranceReverted,
                                     deserialise_events)
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from rasa_runtime import tracker_memos
from rasa_runtime.tracker_memos import carry, clone

EVENTS = [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"}), ActionExecuted("action_reply"),
          BotUttered("hello", {}, {"utter_action": "utter_greet"}), SlotSet("language", "zh"),
          SlotSet("language", "en"), FollowupAction("action_handoff"), Restarted(), SessionStarted(),
          ActionReverted(), UserUtteranceReverted(), ActiveLoop("some_form"), ActiveLoop(None),
          ActionExecuted("some_form")]
common = st.sampled_from(EVENTS[:7])
rare = st.sampled_from(EVENTS[7:])
SLOTS = [TextSlot("language", mappings=[{"type": "custom"}])]
chunks = st.lists(st.lists(st.one_of(common, common, common, common, rare), max_size=8), min_size=1, max_size=12)


def rasas_answers(tracker: DialogueStateTracker) -> tuple:
    return ([e.as_dict() for e in tracker_memos._RASA_APPLIED_EVENTS(tracker)],
            tracker_memos._RASA_COPY(tracker).current_state(EventVerbosity.ALL))


def our_answers(tracker: DialogueStateTracker) -> tuple:
    return ([e.as_dict() for e in tracker_memos.applied_events(tracker)],
            tracker_memos.copy(tracker).current_state(EventVerbosity.ALL))


def decoded(tracker: DialogueStateTracker, shared: int) -> DialogueStateTracker:
    """The tracker's first `shared` events as they are, the rest decoded from their dicts (as the store's cache)."""
    events = list(tracker.events)
    head = DialogueStateTracker.from_events(tracker.sender_id, events[:shared], SLOTS)
    for event in deserialise_events([e.as_dict() for e in events[shared:]]):
        head.update(event)
    head.events = type(tracker.events)([*events[:shared], *list(head.events)[shared:]])
    return head


@settings(max_examples=150, deadline=None)
@given(chunks, st.integers(0, 10))
def test_memoised_applied_events_and_copies_are_rasas(plan, shared):
    tracker = DialogueStateTracker("rest:memos", SLOTS)
    for chunk in plan:
        for event in chunk:
            tracker.update(event)
        assert our_answers(tracker) == rasas_answers(tracker)
        assert our_answers(clone(tracker)) == rasas_answers(tracker)
    target = decoded(tracker, min(shared, len(tracker.events)))
    carry(tracker, target, min(shared, len(tracker.events)))
    assert our_answers(target) == rasas_answers(target)
    for event in plan[0]:
        target.update(event)
        assert our_answers(target) == rasas_answers(target)


def test_the_memo_is_used_and_a_rewrite_of_the_past_is_not_extended():
    tracker = DialogueStateTracker("rest:memos", SLOTS)
    for event in EVENTS[:4] * 3:
        tracker.update(event)
    tracker_memos.applied_events(tracker)
    assert tracker.__dict__[tracker_memos.APPLIED].count == 12
    tracker.update(UserUtteranceReverted())
    assert tracker_memos.applied_events(tracker) == tracker_memos._RASA_APPLIED_EVENTS(tracker)
    assert len(tracker_memos.applied_events(tracker)) == 12 - 4   # back to the action before the message


def test_memos_are_not_carried_to_other_events():
    source = DialogueStateTracker("rest:memos", SLOTS)
    target = DialogueStateTracker("rest:memos", SLOTS)
    for event in EVENTS[:5]:
        source.update(event)
    for event in [*EVENTS[:4], SlotSet("language", "en")]:
        target.update(event)
    our_answers(source)
    carry(source, target, 0)
    assert our_answers(target) == rasas_answers(target)
    assert tracker_memos.copy(target).get_slot("language") == "en"
