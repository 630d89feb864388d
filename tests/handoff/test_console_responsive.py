"""While bad console sign-ins are being checked, the web app still answers everyone else.

A real uvicorn server on a free port: argon2 on the event loop would hold every other
request (health checks, borrowers opening agreement links) until the checks finish.
"""
from __future__ import annotations

import re
import threading
import time

import httpx
import pytest
import uvicorn

from bot.config import load_settings
from bot.handoff.accounts import create_account
from bot.storage import Database
from bot.storage.schema import migrate
from channels.console.throttle import SignInThrottle
from channels.web.app import create_app
from tests.e2e.stack import free_port

BAD_SIGN_INS = 16
PROMPT_SECONDS = 1.0  # generous: a behaviour check, not a benchmark


@pytest.fixture
def web_url(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings()
    migrate(settings.database_url)
    db = Database(settings.database_url)
    with db.unit_of_work() as session:
        create_account(session, "ada", "Ada", "agent", "the-right-password")
    db.dispose()
    # Limits out of the way: this test is about the event loop, test_console_api about the limits.
    app = create_app(settings, sign_in_throttle=SignInThrottle(per_account=1000, per_client=1000))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def sign_in_form(url: str) -> httpx.Client:
    """A client holding a fresh sign-in form's cookie, with the form's token as an attribute."""
    client = httpx.Client(base_url=url, timeout=60)
    client.form_token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text).group(1)
    return client


def test_other_requests_answer_promptly_while_bad_sign_ins_run(web_url):
    forms = [sign_in_form(web_url) for _ in range(BAD_SIGN_INS)]
    finished: list[float] = []
    statuses: list[int] = []

    def bad_sign_in(client: httpx.Client) -> None:
        response = client.post("/console/login", data={"username": "ada", "password": "wrong",
                                                        "csrf_token": client.form_token})
        statuses.append(response.status_code)
        finished.append(time.monotonic())

    threads = [threading.Thread(target=bad_sign_in, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # the sign-ins are in flight
    waits: list[tuple[str, float]] = []
    with httpx.Client(base_url=web_url, timeout=60) as other:
        for path in ("/healthz", "/agreements/AGR-0000?t=not-a-token", "/healthz"):
            started = time.monotonic()
            response = other.get(path)
            waits.append((path, round(time.monotonic() - started, 3)))
            assert response.status_code in (200, 403)
        measured_until = time.monotonic()
    for thread in threads:
        thread.join(timeout=120)
    for form in forms:
        form.close()
    assert len(statuses) == BAD_SIGN_INS and set(statuses) == {303}  # all refused, none throttled
    assert max(seconds for _, seconds in waits) < PROMPT_SECONDS, f"other requests waited {waits}"
    assert max(finished) > measured_until, "the sign-ins were over before the other requests: nothing was measured"
