"""The console in a real browser against the real stack: a borrower on socket.io escalates,
Kim (an agent account made with the agents CLI) sees it arrive live with its reason, claims it,
replies, and hands back to the bot; the borrower's conversation id never reaches the browser.
The account panel is checked against the web app alone, with a stand-in for Rasa's tracker."""
from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Iterator

import pytest
import socketio
import uvicorn
from fastapi import FastAPI

from bot.config import load_settings
from bot.handoff.accounts import create_account
from bot.handoff.queue import EscalationQueue
from bot.storage import Database
from bot.storage.schema import migrate
from channels.web.app import create_app
from tests.browser import launched_chromium
from tests.conftest import PROJECT_ROOT
from tests.e2e.stack import MODEL, VENV_BIN, Stack, free_port
from tests.handoff.account_rows import CONVERSATION, LOAN, fill_books, fill_outreach, verified_escalation
from tests.integration.require import require

pytestmark = pytest.mark.slow

PASSWORD = "browser-test-pass"
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
    with launched_chromium() as browser:
        yield browser.new_page(viewport={"width": 1440, "height": 900})  # an agent's laptop


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
        page.locator("#books-summary", has_text="Not verified").wait_for()  # no account before verification
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        assert borrower.session_id not in page.content() + page.url + page.title()

        page.click("#hand-back")
        borrower.wait_for("back with the automated assistant")
        page.locator("#facts", has_text="Handed back to the bot").wait_for()  # the outcome in words

        answered = borrower.count()
        borrower.say("hello")
        deadline = time.time() + 30
        while borrower.count() == answered and time.time() < deadline:
            time.sleep(0.1)
        assert borrower.count() > answered, "the bot did not answer after the hand-back"
        assert page.evaluate("window.__pwned") is None
    finally:
        borrower.close()


# -- the account panel, against the web app alone (a stand-in answers for Rasa) ---------------------
BOOKS_SCREENSHOT = PROJECT_ROOT / "docs" / "img" / "console-books-1440x900.png"


def fake_rasa_app(conversation_id: str) -> FastAPI:
    """Rasa's tracker endpoint for one paused conversation, as Rasa 3.6 answers it."""
    app = FastAPI()
    now = time.time()
    events = [
        {"event": "user", "text": "I lost my job in October, I can't pay 600 a month", "timestamp": now - 600,
         "parse_data": {"intent": {"name": "inform_hardship"}}},
        {"event": "bot", "text": "I'm sorry to hear that. Would a smaller monthly payment help?", "timestamp": now - 590},
        {"event": "user", "text": "My payment came back from the bank, can I talk to a person?", "timestamp": now - 300,
         "parse_data": {"intent": {"name": "request_human"}}},
        {"event": "bot", "text": "I've passed this conversation to a person.", "timestamp": now - 295},
        {"event": "pause", "timestamp": now - 294},
    ]

    @app.get("/conversations/{conversation}/tracker")
    def tracker(conversation: str) -> dict:
        assert conversation == conversation_id
        return {"sender_id": conversation, "paused": True, "events": events,
                "slots": {"language": "en", "verified": True, "verified_loan_ref": LOAN}}

    @app.post("/conversations/{conversation}/tracker/events")
    def append(conversation: str) -> dict:
        return {}

    return app


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def books_console(tmp_path, monkeypatch):
    """The web app with one verified borrower's escalation whose loan has a full history; yields (url, id)."""
    with serving(fake_rasa_app(CONVERSATION)) as rasa_url:
        monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
        monkeypatch.setenv("RASA_URL", rasa_url)
        monkeypatch.delenv("DATABASE_URL", raising=False)
        monkeypatch.setenv("RECONCILE_INTERVAL_MINUTES", "0")  # the rows below are the books; nothing re-judges them
        settings = load_settings()
        migrate(settings.database_url)
        database = Database(settings.database_url)
        with database.unit_of_work() as session:
            create_account(session, "kim", "Kim", "agent", PASSWORD)
            fill_books(session, datetime.now(timezone.utc).date())
            fill_outreach(session, datetime.now(timezone.utc).replace(tzinfo=None))
        escalation_id = verified_escalation(database)
        with database.unit_of_work() as session:
            escalation = EscalationQueue(session).get(escalation_id)
            escalation.summary = json.dumps({**json.loads(escalation.summary), "arrears": "1200.00", "currency": "CNY",
                                             "days_past_due": 10, "hardship_cause": "job_loss"})
        database.dispose()
        with serving(create_app(settings)) as url:
            yield url, escalation_id


def test_the_account_panel_shows_the_plan_standing_first_then_the_history(books_console, browser_page):
    url, escalation_id = books_console
    page = browser_page
    page.set_default_timeout(20000)
    page.goto(f"{url}/console/login")
    page.fill("input[name=username]", "kim")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/console/")
    page.goto(f"{url}/console/conversations/{escalation_id}")
    page.click("#claim")
    page.locator("#facts", has_text="claimed by kim").wait_for()

    summary = page.locator("#books-summary")
    summary.locator(".headline", has_text="in arrears").wait_for()
    assert "Plan AGR-20260901-CUR002 in arrears: paid CNY 400.00 of CNY 1,200.00 due" in summary.inner_text()
    assert "Promised CNY 500.00 by" in summary.inner_text()
    assert page.locator("#books-title").inner_text() == f"Account {LOAN}"
    # What comes first on the page: the standing above the histories.
    standing_top = summary.locator(".headline").first.bounding_box()["y"]
    assert standing_top < page.locator("#books-payments").bounding_box()["y"]

    payments = page.locator("table.payments")
    assert payments.locator("th").all_inner_texts() == ["Paid on", "Amount", "State", "Applied to"]
    assert payments.get_attribute("aria-labelledby") == "books-payments"
    returned = payments.locator("tr", has_text="PAY-2")
    assert "Returned" in returned.inner_text() and "nothing applied" in returned.inner_text()
    note = payments.locator("tr.row-note")
    assert note.inner_text() == "Note: <script>window.__pwned=1</script> bank reversal"  # shown as text
    assert payments.locator("script").count() == 0
    assert page.evaluate("window.__pwned") is None
    # Each state is a word; the glyph and colour only help scanning, and screen readers skip the glyph.
    badges = page.eval_on_selector_all("table.promises td .badge", """badges => badges.map(b => [
        b.className, b.querySelector('.glyph').getAttribute('aria-hidden'), b.lastChild.textContent])""")
    assert badges == [["badge tone-info", "true", "Open"], ["badge tone-warn", "true", "Partly kept"],
                      ["badge tone-good", "true", "Kept"], ["badge tone-bad", "true", "Broken"]]
    assert CONVERSATION[4:] not in page.content()

    # Outreach: where it stands first, then what is due (borrower's time and UTC) and what became of the latest.
    outreach = page.locator("#outreach")
    outreach.locator(".headline", has_text="Outreach active").wait_for()
    assert outreach.bounding_box()["y"] < page.locator("#books-payments").bounding_box()["y"]
    upcoming = page.locator("table.outreach-next")
    assert upcoming.locator("th").all_inner_texts() == ["Due", "Reason", "Channel"]
    assert "Asia/Shanghai" in upcoming.locator("tr").nth(1).inner_text()
    assert "borrower's zone unknown" in upcoming.locator("tr").nth(2).inner_text()
    latest = page.locator("table.outreach-latest")
    assert "quiet hours (CN rules)" in latest.inner_text()
    assert "the conversation was with a person (handoff open)" in latest.inner_text()
    assert page.locator("#outreach-resume").is_hidden()

    page.fill("#outreach-note", "<script>window.__pwned=1</script> Borrower in hospital, call after 10 Jan")
    page.click("#outreach-pause button[type=submit]")
    outreach.locator(".headline", has_text="Outreach paused by kim until lifted").wait_for()
    assert "<script>window.__pwned=1</script> Borrower in hospital" in outreach.locator(".headline").inner_text()
    assert outreach.locator("script").count() == 0 and page.evaluate("window.__pwned") is None
    assert page.locator("#outreach-resume").is_visible() and page.locator("#outreach-pause").is_hidden()
    page.locator("table.changes tr", has_text="operator: kim").wait_for()

    BOOKS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(BOOKS_SCREENSHOT))

    page.click("#outreach-resume")
    outreach.locator(".headline", has_text="Outreach active").wait_for()
    assert page.locator("#outreach-pause").is_visible()
