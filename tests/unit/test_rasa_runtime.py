"""rasa_runtime's cached action-response validation accepts and rejects exactly what Rasa's does."""
from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
    assert rasa_runtime.action_response_check() is rasa_runtime.action_response_check()


def test_a_valid_response_is_accepted(action):
    jsonschema.validate(VALID, RemoteAction.action_response_format_spec())  # Rasa's own check agrees
    assert action._validate_action_result(VALID) is True


@pytest.mark.parametrize("response", INVALID)
def test_an_invalid_response_raises_rasas_own_error(action, response):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(response)


SCHEMA = RemoteAction.action_response_format_spec()
EVENT_NAMES = [branch["properties"]["event"]["const"] for branch in SCHEMA["properties"]["events"]["items"]["oneOf"]]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)
field_values = {
    "name": st.text(max_size=8) | json_values,
    "value": json_values,
    "timestamp": st.none() | st.floats(allow_nan=False) | st.text(max_size=3),
    "metadata": st.none() | st.dictionaries(st.text(max_size=3), json_values, max_size=2) | st.text(max_size=3),
    "text": st.none() | st.text(max_size=8) | st.integers(),
    "entities": st.lists(st.fixed_dictionaries({}, optional={"entity": st.text(max_size=3) | st.integers(),
                                                              "start": st.integers() | st.text(max_size=2),
                                                              "end": st.integers(), "value": json_values}),
                         max_size=2) | json_values,
    "parse_data": st.fixed_dictionaries({}, optional={"intent": json_values, "entities": json_values,
                                                      "text": json_values}) | json_values,
    "policy": st.none() | st.text(max_size=3) | st.integers(),
    "confidence": st.none() | st.floats(allow_nan=False) | st.text(max_size=2),
}
arbitrary_events = st.fixed_dictionaries(
    {}, optional={"event": st.sampled_from(EVENT_NAMES) | st.text(max_size=6) | st.integers(), **field_values})
# Mostly well-formed events, so that valid responses with events are common, not rare.
plausible_events = st.fixed_dictionaries(
    {"event": st.sampled_from(EVENT_NAMES), "timestamp": st.none() | st.floats(0, 2e9),
     "name": st.text(max_size=8), "value": json_values},
    optional={"text": st.none() | st.text(max_size=8), "metadata": st.none() | st.just({}),
              "policy": st.none() | st.text(max_size=3), "confidence": st.none() | st.floats(0, 1),
              "entities": st.just([]) | st.lists(st.fixed_dictionaries({"entity": st.text(max_size=3)},
                                                                        optional={"start": st.integers(0, 9)}),
                                                 max_size=2),
              "parse_data": st.just({}) | st.fixed_dictionaries({}, optional={"intent": st.just({"name": "x"}),
                                                                             "entities": st.just([])})})
events = arbitrary_events | plausible_events
responses = st.fixed_dictionaries({}, optional={
    "events": st.lists(events, max_size=4) | json_values,
    "responses": st.lists(st.dictionaries(st.text(max_size=4), json_values, max_size=2) | json_values, max_size=3)
    | json_values,
}) | st.fixed_dictionaries({"events": st.lists(plausible_events, min_size=1, max_size=4)},
                          optional={"responses": st.lists(st.just({"response": "utter_x"}), max_size=2)}) | json_values


@settings(max_examples=1500, deadline=None)
@given(responses)
def test_the_fast_check_accepts_exactly_what_rasas_schema_accepts(response):
    assert rasa_runtime.action_response_check().accepts(response) == jsonschema.Draft202012Validator(
        SCHEMA).is_valid(response)


@pytest.mark.parametrize("response", [VALID, *INVALID])
def test_the_fast_check_agrees_on_the_examples(response):
    expected = jsonschema.Draft202012Validator(SCHEMA).is_valid(response)
    assert rasa_runtime.action_response_check().accepts(response) is expected


def test_every_event_rasas_sdk_can_send_is_checked_against_its_own_type():
    assert len(rasa_runtime.action_response_check().event_validators) == len(EVENT_NAMES) == 23


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


DATE_OF_BIRTH = "1988-04-12"


async def test_a_failed_action_is_logged_without_the_request_it_carried(unused_tcp_port):
    """rasa_sdk answered a failed action with the request; Rasa logged that body with the traceback."""
    import traceback

    from aiohttp import web
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.exceptions import RasaException

    rasa_runtime.install()

    async def failing_action_server(request: web.Request) -> web.Response:
        return web.json_response({"error": "boom", "request_body": await request.json()}, status=500)

    app = web.Application()
    app.router.add_post("/webhook", failing_action_server)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        tracker = DialogueStateTracker.from_events("rest:someone", [UserUttered(f"HCF-1001 {DATE_OF_BIRTH}")])
        action = RemoteAction("action_verify_identity",
                              EndpointConfig(f"http://127.0.0.1:{unused_tcp_port}/webhook"))
        with pytest.raises(RasaException) as failure:
            await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker,
                             Domain.empty())
    finally:
        await runner.cleanup()
    logged = "".join(traceback.format_exception(failure.value))  # what Rasa's logger.exception writes
    assert "500" in logged and "action_verify_identity" in logged
    assert DATE_OF_BIRTH not in logged
    assert DATE_OF_BIRTH.encode() in failure.value.__cause__.text  # still there for whoever handles it


def test_a_rejected_action_is_still_read_from_the_response_body():
    from rasa.utils.endpoints import ClientResponseError

    rasa_runtime.install()
    error = ClientResponseError(400, "Bad Request", b'{"action_name": "action_x", "error": "no"}')
    assert error.status == 400 and b"action_x" in error.text and "action_x" not in str(error)
