"""The real servers on PostgreSQL (app data and Rasa's tracker store) with Redis as the lock store,
scaled out as the README says: two Rasa worker processes sharing one conversation."""
from __future__ import annotations

import uuid

import pytest

from bench.memory import process_tree
from tests.e2e.stack import Stack
from tests.integration.conftest import reset_schema

pytestmark = pytest.mark.slow


def test_a_conversation_on_postgres_and_redis_survives_a_restart(postgres_url, redis_url, tmp_path):
    reset_schema(postgres_url)
    stack = Stack(tmp_path, extra_env={
        "DATABASE_URL": postgres_url, "TRACKER_STORE_URL": postgres_url, "REDIS_URL": redis_url,
        "SANIC_WORKERS": "2",
    })
    stack.setup()
    stack.start()
    try:
        assert len(process_tree(stack.processes[1].pid)) == 3  # Rasa's main process and two workers
        me = f"pg-{uuid.uuid4().hex}"
        assert "3,930.00" in "\n".join(stack.say(me, "HCF-1001 1988-04-12"))
        assert "3,930.00" in "\n".join(stack.say(me, "how much do I owe"))
        stack.restart()
        assert "3,930.00" in "\n".join(stack.say(me, "how much do I owe"))
        assert stack.tracker(me)["slots"]["verified"] is True
    finally:
        stack.stop()
    endpoints = (tmp_path / "endpoints.yml").read_text()
    assert "type: redis" in endpoints and "dialect: postgresql" in endpoints
    assert "type: rasa_runtime.tracker_store.SQLTrackerStore" in endpoints
