"""The real Rasa server and action server, started as the Procfile starts them, keep their secrets and files private.

Issue 9, items 1, 7 and 8: no secret on any command line (`ps` shows them to every user), CORS only
for the web app's origin, SQLite files readable by their owner only, the action server on loopback.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import requests

from tests.e2e.stack import MODEL, Stack
from tests.security.test_action_server import listening_addresses

pytestmark = pytest.mark.slow

PUBLIC_ORIGIN = "https://pay.lender.example"


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}")
    # Rasa compresses its action calls here: the other e2e tests cover the uncompressed ones.
    running = Stack(tmp_path_factory.mktemp("secrets"), extra_env={"PUBLIC_BASE_URL": f"{PUBLIC_ORIGIN}/help",
                                                                   "COMPRESS_ACTION_SERVER_REQUEST": "true"})
    running.setup()
    try:
        running.start()
        yield running
    finally:
        running.stop()


def test_a_conversation_runs_through_the_guarded_action_server_with_compressed_calls(stack):
    replies = " ".join(stack.say("secrets-probe", "HCF-1001 12 April 1988"))
    assert "3,930.00" in replies


def test_no_secret_is_on_a_command_line(stack):
    secrets = (stack.env["RASA_API_TOKEN"], stack.env["ACTION_SERVER_TOKEN"])
    for process in stack.processes:
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
        assert all(secret not in command_line for secret in secrets), command_line


def test_the_api_token_still_guards_rasas_http_api(stack):
    assert requests.get(f"{stack.url}/status", timeout=10).status_code == 401
    assert requests.get(f"{stack.url}/status", params={"token": stack.env["RASA_API_TOKEN"]}, timeout=10).ok


def cors_origin_allowed(stack: Stack, origin: str) -> str | None:
    answer = requests.options(f"{stack.url}/webhooks/rest/webhook", timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    return answer.headers.get("Access-Control-Allow-Origin")


def test_browsers_may_call_rasa_from_the_web_apps_origin_only(stack):
    assert cors_origin_allowed(stack, PUBLIC_ORIGIN) == PUBLIC_ORIGIN
    assert cors_origin_allowed(stack, "https://attacker.example") is None


def test_the_databases_and_secrets_are_readable_by_their_owner_only(stack):
    stack.say("secrets-probe-2", "hello")  # the tracker store has written
    private = ["app.db", "tracker.db", "endpoints.yml", "credentials.yml", ".link_secret"]
    private += [path.name for path in stack.var_dir.glob("*.db-*")]  # SQLite's WAL and shared-memory files
    for name in private:
        assert (stack.var_dir / name).stat().st_mode & 0o777 == 0o600, name


def test_the_action_server_listens_on_loopback_only(stack):
    assert listening_addresses(stack.action_port) == {"127.0.0.1"}
