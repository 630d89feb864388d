"""How our Rasa server runs: Rasa's own CLI, with measured fixes installed first.

`python -m rasa_runtime run …` takes exactly the arguments of `rasa run …` (Procfile,
tests/e2e/stack.py). Each fix keeps Rasa's behaviour and is measured in docs/PERFORMANCE.md.

Action-response validation: Rasa 3.6 checks every action-server response with
`jsonschema.validate(result, schema)`, which first re-checks the constant schema against its
meta-schema and builds a new validator, on every call: ~20 ms of CPU per custom action on the
2-core machine, more than the whole NLU parse. We keep one validator, built once per process from
the same schema with the same validator class, so a response is accepted exactly when Rasa would
accept it; a rejected one goes through Rasa's own check, which raises Rasa's own error.
"""
from __future__ import annotations

from functools import lru_cache

import jsonschema
from rasa.core.actions.action import RemoteAction

_RASA_VALIDATE_ACTION_RESULT = RemoteAction._validate_action_result


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


def install() -> None:
    """Install the fixes (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result
