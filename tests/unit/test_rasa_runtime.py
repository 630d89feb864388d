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
