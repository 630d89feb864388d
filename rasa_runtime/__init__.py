"""How our Rasa server runs: Rasa's own CLI, with measured fixes installed first.

`python -m rasa_runtime run …` takes exactly the arguments of `rasa run …` (Procfile,
tests/e2e/stack.py). Each fix keeps Rasa's behaviour and is measured in docs/PERFORMANCE.md.

Action-response validation: Rasa 3.6 checks every action-server response with
`jsonschema.validate(result, schema)`, which first re-checks the constant schema against its
meta-schema and builds a new validator, on every call: ~20 ms of CPU per custom action on the
2-core machine, more than the whole NLU parse. We keep one validator, built once per process from
the same schema with the same validator class, so a response is accepted exactly when Rasa would
accept it; a rejected one goes through Rasa's own check, which raises Rasa's own error.

Event types: Rasa resolves the class of every stored event by walking all subclasses of `Event`
(recursively, with `inspect.isabstract` on each) per event, on every tracker read: ~7% of the Rasa
process's CPU. We keep a name → class map in the same order (the first class with a name wins, as
in Rasa's loop) and rebuild it on a miss, so event classes defined later are still found; a name
no class has goes to Rasa's own function (the `topic` special case, the default, the error).

Graph pruning: for every message Rasa recomputes which nodes of the model's graph the requested
targets need, by a recursive walk that revisits shared dependencies: ~6% of the CPU. The graph of
a loaded model does not change, so the answer is kept per schema and target list.
"""
from __future__ import annotations

from functools import lru_cache

import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.engine.graph import GraphSchema
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

_RASA_VALIDATE_ACTION_RESULT = RemoteAction._validate_action_result
_RASA_RESOLVE_BY_TYPE = Event.resolve_by_type
_EVENT_TYPES: dict[str, type[Event]] = {}
_RASA_MINIMAL_GRAPH_SCHEMA = GraphSchema.minimal_graph_schema


@lru_cache(maxsize=1)
def action_response_validator() -> jsonschema.protocols.Validator:
    """`jsonschema.validate`'s own steps (validator class for the schema, schema check), done once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(action: RemoteAction, result: dict) -> bool:
    if action_response_validator().is_valid(result):
        return True
    return _RASA_VALIDATE_ACTION_RESULT(action, result)  # raises Rasa's ValidationError


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


def install() -> None:
    """Install the fixes (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(resolve_event_type)
    GraphSchema.minimal_graph_schema = minimal_graph_schema
