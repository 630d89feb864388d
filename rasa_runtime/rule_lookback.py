"""The rule policy's view of the past: the states its rules can reach, computed once per event.

Rasa's `RulePolicy` turns the whole tracker into dialogue states before each prediction (two to four
per turn): it replays every applied event of the session on a fresh tracker and builds a state at
every action, so a turn's cost grew with the conversation's length (~25% of the Rasa process's CPU
at 150 turns). Two facts bound it without changing a prediction:

1. Only the last states matter. `RulePolicy._get_possible_keys` walks the states from the newest,
   and a rule whose states are all behind (`turn_index >= len(rule)`) stays applicable whatever
   the older states are (`_is_rule_applicable`), so no rule can see further back than the longest
   rule. We hand the policy the last `longest rule + 1` states: one more than any rule has, so the
   key of the states a prediction falls back to (`_create_feature_key`, looked up among the rules
   not in stories for `hide_rule_turn`) is longer than every rule key, as Rasa's full key of a
   longer conversation is. A shorter conversation gets all its states, as before.
2. The states of the past do not change when events are appended, unless an appended event rewrites
   which events are applied (`applied_events`: a restart, a new session, a reverted action or user
   message, or a loop, whose re-executions undo earlier ones). So each tracker carries the states
   computed so far and the replayed tracker at that point (`Memo`); the next prediction replays only
   the new events. Anything that rewrites the past, or a conversation with a loop, gets Rasa's full
   computation. Copies made by the tracker store's cache carry the memo along (it is never changed,
   only replaced), so the next turn starts from it.

Rasa's debug log of the policy's states shows the bounded states. `tests/unit/test_rasa_runtime_rule_lookback.py`
compares every prediction with Rasa's on generated conversations driven by our trained rules.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Optional

from rasa.core.policies.policy import SupportedData
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_runtime import tracker_memos
from rasa_runtime.tracker_memos import REWRITES_THE_PAST, clone, has_loop, new_events, valid

_RASA_PREDICTION_STATES = RulePolicy._prediction_states
MEMO = "_rasa_runtime_prior_states"
tracker_memos.MEMOS.append(MEMO)


@dataclass(frozen=True)
class Memo:
    domain: Domain
    omit_unset_slots: bool
    count: int                          # events of the tracker covered
    last: Any                           # the last of them (the same object while events are only appended)
    replayed: DialogueStateTracker      # the applied events so far, replayed (never changed: cloned to extend)
    states: tuple                       # the state before each action so far


def _state(domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool) -> State:
    return domain._clean_state(domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots))


def _replay(domain: Domain, replayed: DialogueStateTracker, states: list, events, omit_unset_slots: bool) -> None:
    """What `Domain.states_for_tracker_history` does per event (without rule-only turns)."""
    for event in events:
        if isinstance(event, ActionExecuted):
            states.append(_state(domain, replayed, omit_unset_slots))
        replayed.update(event)


def _from_scratch(tracker: DialogueStateTracker, domain: Domain, omit_unset_slots: bool) -> Optional[Memo]:
    if has_loop(tracker.events):
        return None                     # loops undo earlier events as they go: Rasa's way
    replayed, states = tracker.init_copy(), []
    _replay(domain, replayed, states, tracker.applied_events(), omit_unset_slots)
    events = tracker.events
    return Memo(domain, omit_unset_slots, len(events), events[-1] if events else None, replayed, tuple(states))


def _extended(memo: Memo, tracker: DialogueStateTracker) -> Optional[Memo]:
    new = new_events(memo, tracker)
    if any(isinstance(event, REWRITES_THE_PAST) for event in new):
        return None
    replayed, states = clone(memo.replayed), list(memo.states)
    _replay(memo.domain, replayed, states, new, memo.omit_unset_slots)
    return Memo(memo.domain, memo.omit_unset_slots, len(tracker.events), new[-1] if new else memo.last,
                replayed, tuple(states))


def memo_for(tracker: DialogueStateTracker, domain: Domain, omit_unset_slots: bool) -> Optional[Memo]:
    """The tracker's past states and replayed tracker up to its last event, or None where Rasa's way is needed."""
    memo = tracker.__dict__.get(MEMO)
    events = tracker.events
    usable = valid(memo, tracker) and memo.domain is domain and memo.omit_unset_slots == omit_unset_slots
    if usable and memo.count == len(events):
        return memo
    found = (_extended(memo, tracker) if usable else None) or _from_scratch(tracker, domain, omit_unset_slots)
    if found is not None:
        tracker.__dict__[MEMO] = found
    return found


def recent_states(tracker: DialogueStateTracker, domain: Domain, count: int,
                  omit_unset_slots: bool = False) -> Optional[list[State]]:
    """The last `count` of `domain.states_for_tracker_history(tracker)` (fresh dicts), or None for Rasa's way."""
    memo = memo_for(tracker, domain, omit_unset_slots)
    if memo is None:
        return None
    final = _state(domain, memo.replayed, omit_unset_slots)
    past = [{key: dict(sub) for key, sub in state.items()} for state in memo.states[-(count - 1):]] if count > 1 else []
    return past + [final]


def lookback(policy: RulePolicy) -> int:
    """One more state than the longest rule (module doc, point 1)."""
    found = policy.__dict__.get("_rasa_runtime_lookback")
    if found is None:
        keys = itertools.chain(policy.lookup.get(RULES, {}), policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {}))
        found = 1 + max((len(policy._rule_key_to_state(key)) for key in keys), default=0)
        policy.__dict__["_rasa_runtime_lookback"] = found
    return found


class _RecentPast:
    """The tracker as the featurizer reads it, its past states bounded to what the rules can reach."""

    def __init__(self, tracker: DialogueStateTracker, states: list[State]) -> None:
        self._tracker, self._states = tracker, states

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracker, name)

    def past_states(self, domain: Domain, omit_unset_slots: bool = False, ignore_rule_only_turns: bool = False,
                    rule_only_data: Any = None) -> list[State]:
        return self._states


def prediction_states(policy: RulePolicy, tracker: DialogueStateTracker, domain: Domain,
                      use_text_for_last_user_input: bool = False, rule_only_data: Any = None) -> list[State]:
    """`RulePolicy._prediction_states`, over the states the rules can reach (module doc)."""
    if policy.supported_data() == SupportedData.ML_DATA or not isinstance(tracker, DialogueStateTracker):
        return _RASA_PREDICTION_STATES(policy, tracker, domain, use_text_for_last_user_input, rule_only_data)
    states = recent_states(tracker, domain, lookback(policy))
    if states is None:
        return _RASA_PREDICTION_STATES(policy, tracker, domain, use_text_for_last_user_input, rule_only_data)
    return _RASA_PREDICTION_STATES(policy, _RecentPast(tracker, states), domain, use_text_for_last_user_input,
                                   rule_only_data)
