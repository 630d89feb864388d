"""The console in a real browser against the real stack: a borrower on socket.io escalates,
Kim (an agent account made with the agents CLI) sees it arrive live with its reason, claims it,
replies, and hands back to the bot; the borrower's conversation id never reaches the browser."""
from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid

import pytest
import socketio

from tests.conftest import PROJECT_ROOT
from tests.e2e.stack import MODEL, VENV_BIN, Stack
from tests.integration.require import require

pytestmark = pytest.mark.slow

PASSWORD = "browser-test-pass"
CHROMIUM = "/usr/bin/chromium"
XSS = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require(MODEL.exists(), f"no trained model at {MODEL}: run scripts/bootstrap.sh")
    running = Stack(tmp_path_factory.mktemp("handoff"))
    running.setup()
    subprocess.run([str(VENV_BIN / "python"), "-m", "bot.cli", "agents", "create", "kim", "--role", "agent",
                    "--display-name", "Kim", "--password-stdin"], input=PASSWORD + "\n", text=True, check=True,
                   capture_output=True, env=running.env, cwd=PROJECT_ROOT)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def console_url(stack):
    with stack.web_app() as url:
        yield url


class Borrower:
    """A borrower on the web widget's transport: a python-socketio client with a persistent session."""

    def __init__(self, rasa_url: str) -> None:
        self.session_id = uuid.uuid4().hex + uuid.uuid4().hex
        self.conversation_id = f"web:{self.session_id}"  # how the widget channel names it
        self.received: list[str] = []
        self._lock = threading.Lock()
        self.client = socketio.Client()
        self.client.on("bot_uttered", self._on_bot)
        confirmed = threading.Event()
        self.client.on("session_confirm", lambda *_: confirmed.set())
        self.client.connect(rasa_url, socketio_path="/socket.io")
        self.client.emit("session_request", {"session_id": self.session_id})
        assert confirmed.wait(10), "no session_confirm"

    def _on_bot(self, data) -> None:
        with self._lock:
            self.received.append((data or {}).get("text") or "")

    def say(self, text: str) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def wait_for(self, fragment: str, timeout: float = 30) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                for text in self.received:
                    if fragment in text:
                        return text
            time.sleep(0.1)
        raise AssertionError(f"borrower never received {fragment!r}; got {self.received}")

    def times_received(self, fragment: str) -> int:
        with self._lock:
            return sum(fragment in text for text in self.received)

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def browser_page():
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: install Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})  # an agent's laptop
        yield page
        browser.close()


SCREENSHOT = PROJECT_ROOT / "docs" / "img" / "console-1440x900.png"


def test_agent_takes_over_replies_and_hands_back(stack, console_url, browser_page):
    page = browser_page
    page.set_default_timeout(20000)
    page.goto(f"{console_url}/console/")
    assert page.url.endswith("/console/login")
    page.fill("input[name=username]", "kim")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{console_url}/console/")
    page.evaluate("window.__sameDocument = true")

    borrower = Borrower(stack.url)
    try:
        borrower.say("I want to talk to a person")
        borrower.wait_for("passed this conversation to a person")
        borrower.say(XSS)  # recorded while the bot is paused; only an agent will read it

        # The escalation appears in the open queue page without a reload, saying why it paused.
        row = page.locator("#queue-rows tr", has_text="request human")
        row.wait_for()
        assert page.evaluate("window.__sameDocument") is True
        assert row.count() == 1 and row.locator("td").first.inner_text().startswith("#")
        assert borrower.session_id not in page.content()  # the widget session is the borrower's credential
        row.locator("button.claim").click()
        page.wait_for_url(f"{console_url}/console/conversations/*")
        page.locator("#facts", has_text="request human").wait_for()
        assert page.locator("#conv-title").inner_text().startswith("Escalation #")

        transcript = page.locator("#transcript")
        transcript.locator("li.borrower", has_text="I want to talk to a person").wait_for()
        transcript.locator("li.borrower", has_text="onerror").wait_for()
        assert XSS in transcript.inner_text()
        assert transcript.locator("img").count() == 0
        assert page.evaluate("window.__pwned") is None

        page.fill("#reply-text", "Hello, this is Kim")
        page.click("#reply-form button[type=submit]")
        received = borrower.wait_for("Hello, this is Kim")
        assert "Kim" in received.replace("Hello, this is Kim", "")  # the borrower sees who is writing
        transcript.locator("li.agent", has_text="Hello, this is Kim").wait_for()
        assert borrower.times_received("Hello, this is Kim") == 1  # delivered once, not echoed
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        assert borrower.session_id not in page.content() + page.url + page.title()

        page.click("#hand-back")
        borrower.wait_for("back with the automated assistant")
        page.locator("#facts", has_text="handed_back").wait_for()

        answered = borrower.count()
        borrower.say("hello")
        deadline = time.time() + 30
        while borrower.count() == answered and time.time() < deadline:
            time.sleep(0.1)
        assert borrower.count() > answered, "the bot did not answer after the hand-back"
        assert page.evaluate("window.__pwned") is None
    finally:
        borrower.close()
