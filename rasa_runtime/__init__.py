"""How our Rasa server runs: Rasa's own CLI, with measured fixes installed first.

`python -m rasa_runtime run …` takes exactly the arguments of `rasa run …` (Procfile,
tests/e2e/stack.py). Each fix keeps Rasa's behaviour and is measured in docs/PERFORMANCE.md.

Action-response validation: Rasa 3.6 checks every action-server response with
`jsonschema.validate(result, schema)`, which first re-checks the constant schema against its
meta-schema and builds a new validator, on every call (~20 ms of CPU per custom action on the
2-core machine, more than the whole NLU parse), then tries every event against all 23 event
types. We build the validators once, with the same schema and validator class, and check each
event against the one type it names (`ActionResponseCheck`): a response is accepted exactly when
Rasa's check would accept it (a property test compares them); anything else goes through Rasa's
own check, which gives Rasa's verdict and Rasa's error.

Event types: Rasa resolves the class of every stored event by walking all subclasses of `Event`
(recursively, with `inspect.isabstract` on each) per event, on every tracker read: ~7% of the Rasa
process's CPU. We keep a name → class map in the same order (the first class with a name wins, as
in Rasa's loop) and rebuild it on a miss, so event classes defined later are still found; a name
no class has goes to Rasa's own function (the `topic` special case, the default, the error).

Graph pruning: for every message Rasa recomputes which nodes of the model's graph the requested
targets need, by a recursive walk that revisits shared dependencies: ~6% of the CPU. The graph of
a loaded model does not change, so the answer is kept per schema and target list.

Action calls carry a bounded history: Rasa sends every event of the session with every custom
action call, so a turn's cost grew with the conversation. The events sent are the recent ones whole
and, from earlier, what our actions' readers of `tracker.events` need (rasa_runtime/action_history.py,
audited and tested there); the rest of the call is Rasa's own.

Graph order: dask orders the tasks of Rasa's graph before every run; the order depends only on
the graph's shape, so it is kept per shape (rasa_runtime/graph_order.py).

Rasa's `applied_events()` and `copy()` (a full replay before every action) are computed once per
event and carried by the tracker (rasa_runtime/tracker_memos.py); compared with Rasa's on generated
event sequences.

The rule policy sees the states its rules can reach, computed once per event (rasa_runtime/rule_lookback.py):
Rasa rebuilt every state of the session before each prediction; predictions are compared with
Rasa's on generated conversations.

Privacy, not speed: a failed call to an endpoint raises Rasa's `ClientResponseError`, whose message
carried the whole response body; Rasa logs it with the traceback of every failed custom action, and
rasa_sdk's error answer echoes the request, so the borrower's tracker (dates of birth included)
reached Rasa's error log. The message now gives the status and the body's size only; the body
stays on the exception (`.text`), where Rasa reads an action's rejection from it.

Availability, not speed: a turn that fails because the database is down answers the borrower
with a clear "try again in a minute" and is saved nowhere, instead of Rasa's silent fall-back to an
empty in-memory store (rasa_runtime/outage.py).

Delivery, not speed: a message its channel delivers twice (Telegram's redelivery, the widget's
resend after a lost socket) is handled once: the second delivery finds its message id in the
conversation, under the conversation's lock (rasa_runtime/once.py).
"""
from __future__ import annotations

from functools import lru_cache

import aiohttp
import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import GraphSchema
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import ClientResponseError

from rasa_runtime import graph_order, rule_lookback, tracker_memos
from rasa_runtime.action_history import bounded_events

_RASA_VALIDATE_ACTION_RESULT = RemoteAction._validate_action_result
_RASA_RESOLVE_BY_TYPE = Event.resolve_by_type
_EVENT_TYPES: dict[str, type[Event]] = {}
_RASA_MINIMAL_GRAPH_SCHEMA = GraphSchema.minimal_graph_schema
_RASA_ACTION_CALL_FORMAT = RemoteAction._action_call_format


class ActionResponseCheck:
    """Accepts exactly the action-server responses that Rasa's response schema accepts.

    The schema validates every event against all 23 branches of a `oneOf`; each branch pins
    `event` to its own constant, so at most one branch can match an event, and the event is
    valid exactly when the branch named by its `event` matches. We check that one branch.
    """

    def __init__(self, schema: dict) -> None:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        item = schema["properties"]["events"]["items"]
        common = {key: value for key, value in item.items() if key != "oneOf"}
        self.event_validators: dict[str, jsonschema.protocols.Validator] = {}
        for branch in item["oneOf"]:
            name = branch["properties"]["event"]["const"]
            if name in self.event_validators:
                raise RuntimeError(f"Rasa's event schema has two branches for {name!r}: update rasa_runtime")
            self.event_validators[name] = validator_class({"allOf": [common, branch]})
        rest = {key: value for key, value in schema["properties"].items() if key != "events"}
        self.rest_validator = validator_class({**schema, "properties": rest})

    def accepts(self, result: object) -> bool:
        if not self.rest_validator.is_valid(result):
            return False
        events = result.get("events", [])  # a dict: the rest validator checked the type
        if not isinstance(events, list):
            return False
        for event in events:
            name = event.get("event") if isinstance(event, dict) else None
            validator = self.event_validators.get(name) if isinstance(name, str) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True


@lru_cache(maxsize=1)
def action_response_check() -> ActionResponseCheck:
    return ActionResponseCheck(RemoteAction.action_response_format_spec())


def _validate_action_result(action: RemoteAction, result: dict) -> bool:
    if action_response_check().accepts(result):
        return True
    return _RASA_VALIDATE_ACTION_RESULT(action, result)  # Rasa's own check: its verdict, its error


def resolve_event_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """`Event.resolve_by_type`, from a map instead of a walk over every subclass."""
    found = _EVENT_TYPES.get(type_name)
    if found is None:
        _EVENT_TYPES.clear()
        for subclass in all_subclasses(Event):
            _EVENT_TYPES.setdefault(subclass.type_name, subclass)
        found = _EVENT_TYPES.get(type_name)
    return found if found is not None else _RASA_RESOLVE_BY_TYPE(type_name, default)


def minimal_graph_schema(schema: GraphSchema, targets: list[str] | None = None) -> GraphSchema:
    """`GraphSchema.minimal_graph_schema`, computed once per schema and list of targets."""
    cache = schema.__dict__.setdefault("_rasa_runtime_minimal", {})
    key = tuple(targets) if targets else None
    if key not in cache:
        cache[key] = _RASA_MINIMAL_GRAPH_SCHEMA(schema, targets)
    return cache[key]


def _action_call_format(action: RemoteAction, tracker, domain) -> dict:
    """Rasa's request to the action server, with the tracker's events bounded (rasa_runtime/action_history.py)."""
    result = _RASA_ACTION_CALL_FORMAT(action, _WithoutEvents(tracker), domain)
    result["tracker"]["events"] = [event.as_dict() for event in bounded_events(list(tracker.events))]
    return result


class _WithoutEvents:
    """The tracker as Rasa's `_action_call_format` reads it, but its state serialised without events
    (they are added bounded): Rasa's own code builds the rest of the request."""

    def __init__(self, tracker) -> None:
        self._tracker = tracker

    def __getattr__(self, name: str):
        return getattr(self._tracker, name)

    def current_state(self, _verbosity=None) -> dict:
        from rasa.shared.core.trackers import EventVerbosity
        return self._tracker.current_state(EventVerbosity.NONE)


def _client_response_error_init(error: ClientResponseError, status: int, message: str, text: bytes | str) -> None:
    """Rasa's `ClientResponseError.__init__`, with a message that leaves the response body out of every log."""
    error.status, error.message, error.text = status, message, text
    aiohttp.ClientError.__init__(error, f"{status}, {message}, response body of {len(text)} bytes not shown")


def install() -> None:
    """Install the fixes (idempotent)."""
    action_response_check()  # built now: a Rasa whose schema has another shape fails at start-up
    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(resolve_event_type)
    GraphSchema.minimal_graph_schema = minimal_graph_schema
    graph_order.install()
    RemoteAction._action_call_format = _action_call_format
    RulePolicy._prediction_states = rule_lookback.prediction_states
    DialogueStateTracker.applied_events = tracker_memos.applied_events
    DialogueStateTracker.copy = tracker_memos.copy
    ClientResponseError.__init__ = _client_response_error_init
    from rasa_runtime import once, outage  # import rasa.core.agent: after the fixes above

    outage.install()
    once.install()
