"""rasa_runtime's cached action-response validation accepts and rejects exactly what Rasa's does."""
from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

import rasa_runtime

VALID = {
    "events": [{"event": "slot", "name": "verified", "value": True, "timestamp": None},
               {"event": "followup", "name": "action_listen"}],
    "responses": [{"response": "utter_greet", "lender": "Harbour Credit"}],
}
INVALID = [
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},                       # a slot event without a name
    {"events": "slot verified true"},
    {"responses": "hello"},
    [],
]


@pytest.fixture
def action() -> RemoteAction:
    rasa_runtime.install()
    return RemoteAction("action_verify", EndpointConfig("http://localhost:5055/webhook"))


def test_installing_replaces_rasas_validation_once():
    rasa_runtime.install()
    rasa_runtime.install()
    assert RemoteAction._validate_action_result is rasa_runtime._validate_action_result
    assert rasa_runtime.action_response_validator() is rasa_runtime.action_response_validator()


def test_a_valid_response_is_accepted(action):
    jsonschema.validate(VALID, RemoteAction.action_response_format_spec())  # Rasa's own check agrees
    assert action._validate_action_result(VALID) is True


@pytest.mark.parametrize("response", INVALID)
def test_an_invalid_response_raises_rasas_own_error(action, response):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(response)


def test_event_types_resolve_to_the_classes_rasas_own_lookup_finds():
    rasa_runtime.install()
    from rasa.shared.core.events import Event, SlotSet, UserUttered
    from rasa.shared.utils.common import all_subclasses

    for subclass in all_subclasses(Event):
        expected = rasa_runtime._RASA_RESOLVE_BY_TYPE(subclass.type_name)
        assert Event.resolve_by_type(subclass.type_name) is expected
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


def test_an_event_class_defined_later_is_found():
    rasa_runtime.install()
    from rasa.shared.core.events import Event, SlotSet

    Event.resolve_by_type("slot")  # the map exists before the new class does

    class LateEvent(SlotSet):
        type_name = "late_event_for_the_test"

    assert Event.resolve_by_type("late_event_for_the_test") is LateEvent


def test_the_pruned_graph_is_rasas_and_is_computed_once_per_target_list():
    from rasa.engine.graph import GraphSchema, SchemaNode

    rasa_runtime.install()

    class Component:  # SchemaNode only stores the class
        pass

    def node(needs: dict, target: bool = False) -> SchemaNode:
        return SchemaNode(needs=needs, uses=Component, constructor_name="create", fn="run", config={},
                          is_target=target)

    schema = GraphSchema({"tokens": node({}), "features": node({"x": "tokens"}),
                          "intent": node({"a": "features", "b": "tokens"}, target=True),
                          "unused": node({"x": "tokens"})})
    pruned = schema.minimal_graph_schema(["intent"])
    assert set(pruned.nodes) == set(rasa_runtime._RASA_MINIMAL_GRAPH_SCHEMA(schema, ["intent"]).nodes) \
        == {"tokens", "features", "intent"}
    assert schema.minimal_graph_schema(["intent"]) is pruned
    assert set(schema.minimal_graph_schema(["features"]).nodes) == {"tokens", "features"}
    assert set(schema.minimal_graph_schema().nodes) == {"tokens", "features", "intent"}
