"""The real servers on PostgreSQL (app data and Rasa's tracker store) with Redis as the lock store,
scaled out as the README says: two Rasa worker processes sharing the conversations."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest
import requests
from playwright.sync_api import expect

from bench.memory import process_tree
from channels.console.rasa_api import agent_message_event
from tests.e2e.stack import Stack
from tests.integration.conftest import reset_schema
from tests.browser import launched_chromium
from tests.widget.conftest import Widget, widget_config

pytestmark = pytest.mark.slow
AGENT_MESSAGES = 8


@pytest.fixture(scope="module")
def scaled_stack(postgres_url, redis_url, tmp_path_factory) -> Iterator[Stack]:
    reset_schema(postgres_url)
    stack = Stack(tmp_path_factory.mktemp("scaled"), extra_env={
        "DATABASE_URL": postgres_url, "TRACKER_STORE_URL": postgres_url, "REDIS_URL": redis_url,
        "SANIC_WORKERS": "2",
    })
    stack.setup()
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def test_the_configuration_is_postgres_redis_and_two_rasa_workers(scaled_stack):
    assert len(process_tree(scaled_stack.processes[1].pid)) == 3  # Rasa's main process and two workers
    endpoints = (Path(scaled_stack.var_dir) / "endpoints.yml").read_text()
    assert "type: rasa_runtime.lock_store.AtomicRedisLockStore" in endpoints and "dialect: postgresql" in endpoints
    assert "type: rasa_runtime.tracker_store.SQLTrackerStore" in endpoints
    assert "redis_url: redis://" in (Path(scaled_stack.var_dir) / "credentials.yml").read_text()


def test_every_agent_message_reaches_the_widget_whichever_worker_takes_it(scaled_stack):
    """The borrower's socket (the real widget in Chromium) is held by one worker; the console's
    API calls land on either."""
    with scaled_stack.web_app() as web_url, launched_chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.add_init_script(widget_config(scaled_stack))
        widget = Widget(context.new_page(), scaled_stack, web_url)
        widget.goto().open()
        widget.ask("hi", "automated assistant")
        for number in range(AGENT_MESSAGES):
            # A new connection per request, as the console makes them: the kernel spreads them
            # over the workers, so without the Redis manager about half would reach a worker
            # that does not hold the borrower's socket.
            requests.post(
                f"{scaled_stack.url}/conversations/{widget.conversation_id()}/tracker/events",
                params={"output_channel": "latest", "execute_side_effects": "true", "token": "e2e-token"},
                json=agent_message_event("Ada", f"agent message {number}", "en"),
                headers={"Connection": "close"}, timeout=30).raise_for_status()
        agent_messages = widget.page.locator("#debt-assistant-widget .msg.agent")
        expect(agent_messages).to_have_count(AGENT_MESSAGES, timeout=20_000)
        expect(agent_messages.locator(".who").first).to_contain_text("Ada")
        assert not widget.errors


def test_a_conversation_survives_a_restart(scaled_stack):
    me = f"pg-{uuid.uuid4().hex}"
    assert "3,930.00" in "\n".join(scaled_stack.say(me, "HCF-1001 1988-04-12"))
    assert "3,930.00" in "\n".join(scaled_stack.say(me, "how much do I owe"))
    scaled_stack.restart()
    assert "3,930.00" in "\n".join(scaled_stack.say(me, "how much do I owe"))
    assert scaled_stack.tracker(me)["slots"]["verified"] is True
