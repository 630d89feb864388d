"""Work Rasa redoes over a tracker's whole history on every turn, done once per event instead.

Rasa recomputes, from the first event of the session, several times per turn:
- `tracker.applied_events()` (session check, `get_last_event_for`, the policy's states), and
- `tracker.copy()`: a full replay of every event on a fresh tracker, before every action.
Both are pure functions of the tracker's events, so each tracker carries the answer for the events
it had when last asked (a `Memo`) and extends it with the events appended since:
- a copy is a left fold (`update` per event, `travel_back_in_time(inf)`), so it always extends;
- the applied events extend by the new events unless one of them rewrites the past (a restart, a
  new session, a reverted action or user message, a loop: `REWRITES_THE_PAST`) or the conversation
  has a loop at all (a loop's re-execution undoes earlier events); then Rasa's own computation runs.

A memo is valid for a tracker whose first `count` events are the ones it was computed from; events
are only appended to a tracker, so the last of them being the same object shows it. Memos are never
changed, only replaced, so copies made by the tracker store's cache share them safely; when the
store replaces the events by the ones decoded from the database (the same events, new objects),
`carry` moves the memos over after checking the event at the boundary is equal.
Tested against Rasa's own functions in `tests/unit/test_rasa_runtime_tracker_memos.py`.
"""
from __future__ import annotations

import copy as copying
import dataclasses
import itertools
import json
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional

from rasa.shared.core.events import (ActionReverted, ActiveLoop, Event, Restarted, SessionStarted,
                                     UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker

_RASA_APPLIED_EVENTS = DialogueStateTracker.applied_events
_RASA_COPY = DialogueStateTracker.copy
REWRITES_THE_PAST = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted, ActiveLoop)
APPLIED, COPY = "_rasa_runtime_applied", "_rasa_runtime_copy"
MEMOS = [APPLIED, COPY]     # rasa_runtime.rule_lookback adds its own


@dataclass(frozen=True)
class Memo:
    count: int            # events covered
    last: Any             # the last of them
    value: Any            # never changed: callers get copies


def clone(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """An independent copy of a tracker, without replaying its events (Rasa's `copy()` replays them all).

    Everything Rasa mutates in place is copied: the event deque, each slot (its value is set on the
    slot object) and the active loop's dict; the rest is replaced, never mutated, by `update`.
    """
    new = DialogueStateTracker.__new__(DialogueStateTracker)
    new.__dict__.update(tracker.__dict__)
    new.events = deque(tracker.events, tracker.events.maxlen)
    new.slots = type(tracker.slots)((name, copying.copy(slot)) for name, slot in tracker.slots.items())
    if isinstance(tracker.active_loop, dict):
        new.active_loop = dict(tracker.active_loop)
    return new


def valid(memo: Optional[Memo], tracker: DialogueStateTracker) -> bool:
    events = tracker.events
    return (memo is not None and memo.count <= len(events)
            and (memo.count == 0 or events[memo.count - 1] is memo.last))


def new_events(memo: Memo, tracker: DialogueStateTracker) -> list[Event]:
    return list(itertools.islice(tracker.events, memo.count, None))


def remember(tracker: DialogueStateTracker, key: str, value: Any) -> None:
    events = tracker.events
    tracker.__dict__[key] = Memo(len(events), events[-1] if events else None, value)


def has_loop(events) -> bool:
    return any(isinstance(event, ActiveLoop) and event.name for event in events)


def applied_events(tracker: DialogueStateTracker) -> list[Event]:
    """`DialogueStateTracker.applied_events`, extended from the last answer when only events were appended."""
    memo = tracker.__dict__.get(APPLIED)
    if valid(memo, tracker):
        new = new_events(memo, tracker)
        if not any(isinstance(event, REWRITES_THE_PAST) for event in new):
            applied = [*memo.value, *new]
            if new:
                remember(tracker, APPLIED, tuple(applied))
            return applied
    applied = _RASA_APPLIED_EVENTS(tracker)
    if not has_loop(tracker.events):
        remember(tracker, APPLIED, tuple(applied))
    return applied


def copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """`DialogueStateTracker.copy` (every event replayed on a fresh tracker), replaying only the new events."""
    memo = tracker.__dict__.get(COPY)
    new = new_events(memo, tracker) if valid(memo, tracker) else None
    if new is not None and all(event.timestamp <= float("inf") for event in new):   # Rasa's filter, never false
        replayed = clone(memo.value)
        for event in new:
            replayed.update(event)
    else:
        replayed = _RASA_COPY(tracker)
    remember(tracker, COPY, clone(replayed))
    return replayed


def stored(event: Event) -> dict:
    """An event as the tracker store keeps it (JSON: tuples become lists), to compare with one read back."""
    return json.loads(json.dumps(event.as_dict()))


def carry(source: DialogueStateTracker, target: DialogueStateTracker, shared: int) -> None:
    """Give `target` the memos of `source`: their first `shared` events are the same objects, and the
    events after those must be equal as stored (`target`'s decoded from the database, `source`'s as saved)."""
    source_events, target_events = list(source.events), list(target.events)
    if not all(a is b for a, b in zip(source_events[:shared], target_events[:shared])):
        return
    for key in MEMOS:
        memo = source.__dict__.get(key)
        if not valid(memo, source) or memo.count > len(target_events):
            continue
        if all(stored(source_events[i]) == target_events[i].as_dict() for i in range(shared, memo.count)):
            last = target_events[memo.count - 1] if memo.count else None
            target.__dict__[key] = dataclasses.replace(memo, last=last)
