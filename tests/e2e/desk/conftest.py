"""One running stack with the agent desk closed, shared by the waiting tests of this folder.

The real Rasa server and action server run with a policy whose desk is closed at the time of the
test (all days, a one-hour window that excludes now, in UTC), so a request for a person is out of
hours. The protocol tests (test_desk_waiting.py) and the browser tests (test_desk_waiting_browser.py)
use the same servers: starting Rasa costs about a minute of CI. The stack is scoped to this folder,
so it is stopped before the other end-to-end tests start theirs.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from playwright.sync_api import Browser, BrowserContext
from sqlalchemy import select

from bot.handoff.accounts import create_account
from bot.handoff.models import AgentAccount
from channels.console.rasa_api import RasaConversations
from tests.conftest import PROJECT_ROOT
from tests.e2e.borrowers import SocketIOBorrower
from tests.e2e.stack import MODEL, Stack
from tests.browser import launched_chromium
from tests.widget.conftest import Widget, widget_config

TOKEN = "e2e-token"
AGENT_PASSWORD = "desk-waiting-pass"
# Names of their own: the stack's set-up creates demo console accounts with other passwords.
AGENTS = (("deskada", "Ada"), ("deskbob", "Bob"))


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def closed_desk_policy(path: Path) -> Path:
    """policy.yml with the desk open every day for one hour that does not include now (UTC)."""
    policy = yaml.safe_load((PROJECT_ROOT / "policy.yml").read_text())
    window = ("20:00", "21:00") if utc_now().hour < 12 else ("03:00", "04:00")
    policy["desk"].update(time_zone="UTC", open_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                          opens=window[0], closes=window[1])
    path.write_text(yaml.safe_dump(policy, allow_unicode=True))
    return path


@pytest.fixture(scope="package")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `bash scripts/bootstrap.sh` first")
    var = tmp_path_factory.mktemp("desk")
    running = Stack(var, extra_env={"POLICY_FILE": str(closed_desk_policy(var / "policy.yml"))})
    running.setup()
    try:
        running.start()
        with running.database() as database, database.unit_of_work() as session:
            for username, name in AGENTS:
                if session.execute(select(AgentAccount).where(AgentAccount.username == username)).first() is None:
                    create_account(session, username, name, "agent", AGENT_PASSWORD)
        yield running
    finally:
        running.stop()


@pytest.fixture
def borrower(stack: Stack) -> Iterator[SocketIOBorrower]:
    person = SocketIOBorrower(stack)
    yield person
    person.close()


@pytest.fixture
def rasa(stack: Stack) -> Iterator[RasaConversations]:
    client = RasaConversations(stack.url, TOKEN)
    yield client
    client.close()


@pytest.fixture(scope="package")
def web_url(stack: Stack) -> Iterator[str]:
    """The web app (demo page with the widget, and the console) against the closed-desk stack."""
    with stack.web_app() as url:
        yield url


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with launched_chromium() as launched:
        yield launched


@pytest.fixture
def phone(browser: Browser, stack: Stack, web_url: str) -> Iterator:
    """A factory of widgets on a 390x844 phone, each in its own browser context (its own conversation)."""
    contexts: list[BrowserContext] = []
    made: list[Widget] = []

    def make(locale: str = "en-GB") -> Widget:
        created = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
        created.add_init_script(widget_config(stack))
        contexts.append(created)
        made.append(Widget(created.new_page(), stack, web_url))
        return made[-1]

    yield make
    errors = [error for widget in made for error in widget.errors]
    for created in contexts:
        created.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
