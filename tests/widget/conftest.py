"""The web widget in a real Chromium against the real Rasa + action servers.

One stack (Rasa, action server) and one web app (demo page + widget assets) per
test session; every test gets a fresh browser context, so its own localStorage
and therefore its own conversation. The widget is pointed at the stack's Rasa
port by injecting the embed's config object (`window.DebtAssistantWidget`)
before the page's scripts run, exactly as a lender's page would set it.
"""
from __future__ import annotations

import json
import re
import time
from typing import Iterator

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser import launched_chromium
from tests.e2e.stack import MODEL, Stack

REPLY_TIMEOUT_MS = 45_000
API_TOKEN = "e2e-token"


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """Real Rasa (socket.io channel, session persistence) and action server on free ports."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `bash scripts/bootstrap.sh` first")
    running = Stack(tmp_path_factory.mktemp("widget"))
    running.setup()
    try:
        running.start()
        yield running
    finally:
        running.stop()  # also when start() failed half-way: no orphaned servers


@pytest.fixture(scope="session")
def web_url(stack: Stack) -> Iterator[str]:
    """The web app (demo page at `/`, widget at `/widget/`) on a free port."""
    with stack.web_app() as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with launched_chromium() as launched:
        yield launched


class Widget:
    """The demo page with the widget, driven the way a borrower would."""

    def __init__(self, page: Page, stack: Stack, web_url: str) -> None:
        self.page = page
        self.stack = stack
        self.web_url = web_url
        self.errors: list[str] = []
        self.last_said: str | None = None
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    # -- locators (Playwright's CSS and role selectors pierce the widget's open shadow root)
    @property
    def launcher(self) -> Locator:
        return self.page.locator("#debt-assistant-widget .launcher")

    @property
    def dialog(self) -> Locator:
        return self.page.get_by_role("dialog")

    @property
    def log(self) -> Locator:
        return self.page.get_by_role("log")

    @property
    def input(self) -> Locator:
        return self.page.locator("#daw-input")

    @property
    def offline_notice(self) -> Locator:
        return self.page.locator("#debt-assistant-widget .offline")

    def bot_messages(self) -> Locator:
        return self.page.locator("#debt-assistant-widget .msg.bot, #debt-assistant-widget .msg.agent")

    def user_messages(self) -> Locator:
        return self.page.locator("#debt-assistant-widget .msg.user")

    # -- actions
    def goto(self) -> "Widget":
        self.page.goto(self.web_url + "/")
        # The server issues the conversation once the socket is up (session_confirm).
        self.page.wait_for_function("() => window.DebtAssistantWidget && window.DebtAssistantWidget.sessionId"
                                    " && window.DebtAssistantWidget.sessionId()", timeout=REPLY_TIMEOUT_MS)
        return self

    def open(self) -> "Widget":
        if not self.dialog.is_visible():
            self.launcher.click()
        expect(self.dialog).to_be_visible()
        self.wait_connected()
        return self

    def wait_connected(self) -> None:
        self.page.wait_for_function("() => window.DebtAssistantWidget && window.DebtAssistantWidget.isConnected"
                                    " && window.DebtAssistantWidget.isConnected()", timeout=REPLY_TIMEOUT_MS)

    def say(self, text: str) -> None:
        self.last_said = text
        self.input.fill(text)
        self.input.press("Enter")
        expect(self.user_messages().last).to_contain_text(text)

    def replies_to_last_message(self) -> Locator:
        """Bot and agent messages shown after the borrower's latest message."""
        last_id = self.user_messages().last.get_attribute("data-id")
        return self.page.locator(f'#debt-assistant-widget .msg[data-id="{last_id}"] ~ .msg:not(.user)')

    def expect_bot_says(self, text: str | re.Pattern, timeout: float = REPLY_TIMEOUT_MS) -> None:
        """A reply to the borrower's latest message contains `text`."""
        expect(self.replies_to_last_message().filter(has_text=text).first).to_be_visible(timeout=timeout)

    def ask(self, text: str, expected: str | re.Pattern) -> None:
        self.say(text)
        self.expect_bot_says(expected)

    def wait_turn_over(self, timeout: float = REPLY_TIMEOUT_MS / 1000) -> int:
        """Wait until Rasa has finished the borrower's latest turn and the page shows every reply.

        A turn can send several messages (verification: the arrears, then a question), and
        `ask` returns as soon as the expected one appears; counting messages before the turn
        is over races the rest of it. Returns how many bot messages the conversation holds.
        """
        deadline = time.time() + timeout
        while True:
            events = self.stack.tracker(self.conversation_id())["events"]
            names = [event.get("name") for event in events if event["event"] == "action"]
            said = [event.get("text") for event in events if event["event"] == "user"]
            # Rasa saves the tracker when a turn ends: until then it holds the previous turn.
            if names and names[-1] == "action_listen" and said and said[-1] == self.last_said:
                break
            if time.time() > deadline:
                raise AssertionError(f"Rasa did not finish the turn within {timeout} s: {names[-5:]}")
            time.sleep(0.2)
        sent = sum(1 for event in events if event["event"] == "bot")
        # "<agent> joined" is a bot event shown as a status line, not as a message.
        shown = self.page.locator("#debt-assistant-widget .msg.bot, #debt-assistant-widget .msg.agent,"
                                  ' #debt-assistant-widget .status[data-from="joined"]')
        expect(shown).to_have_count(sent, timeout=REPLY_TIMEOUT_MS)
        return sent

    def session_id(self) -> str:
        return self.page.evaluate("() => window.DebtAssistantWidget.sessionId()")

    def conversation_id(self) -> str:
        """The tracker's id: the channel namespaces widget sessions as `web:<session id>`."""
        return "web:" + self.session_id()

    def inject_bot_event(self, event: dict) -> requests.Response:
        """Send a bot event the way the agent console does: Rasa's HTTP API, latest output channel."""
        response = requests.post(
            f"{self.stack.url}/conversations/{self.conversation_id()}/tracker/events",
            params={"output_channel": "latest", "execute_side_effects": "true", "token": API_TOKEN},
            json=event, timeout=30)
        response.raise_for_status()
        return response


def widget_config(stack: Stack, **extra) -> str:
    config = {"serverUrl": stack.url, **extra}
    return f"window.DebtAssistantWidget = {json.dumps(config)};"


@pytest.fixture
def context(browser: Browser, stack: Stack) -> Iterator[BrowserContext]:
    created = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    created.add_init_script(widget_config(stack))
    yield created
    created.close()


@pytest.fixture
def widget(context: BrowserContext, stack: Stack, web_url: str) -> Iterator[Widget]:
    page = context.new_page()
    driven = Widget(page, stack, web_url)
    yield driven
    assert not driven.errors, f"JavaScript errors on the page: {driven.errors}"


@pytest.fixture
def new_widget(browser: Browser, stack: Stack, web_url: str) -> Iterator:
    """A factory for widgets in further, independent browser contexts."""
    contexts: list[BrowserContext] = []

    def make(**context_options) -> Widget:
        options = {"viewport": {"width": 390, "height": 844}, **context_options}
        created = browser.new_context(**options)
        created.add_init_script(widget_config(stack))
        contexts.append(created)
        return Widget(created.new_page(), stack, web_url)

    yield make
    for created in contexts:
        created.close()

