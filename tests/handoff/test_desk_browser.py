"""The agent desk in Chromium against the real web app and a real SQLite database: the three-pane layout
holds whatever the borrower sends, a new escalation shows in the tab title, canned replies arrive filled
and editable, search and filters narrow the queue, a conversation moves between two agents, and the
console speaks Chinese. Console-only behaviour: a stand-in answers for Rasa's tracker endpoint (as in
test_console_browser's account-panel test), so this file starts no Rasa server of its own."""
from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

import pytest
from fastapi import FastAPI
from rasa.shared.core.events import BotUttered, ConversationPaused, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.agreements.models import OfferRecord
from bot.config import load_settings
from bot.handoff.accounts import create_account
from bot.handoff.queue import EscalationQueue
from bot.storage import Database
from bot.storage.schema import migrate
from channels.web.app import create_app
from tests.conftest import PROJECT_ROOT
from tests.handoff.account_rows import LOAN, fill_books
from tests.browser import launched_chromium
from tests.handoff.test_console_browser import serving
from tests.handoff.test_desk_live import TrackerStore

pytestmark = pytest.mark.slow

PASSWORD = "desk-browser-pass"
IMAGES = PROJECT_ROOT / "docs" / "img"
LONG_WORD = "R" * 1500 + "\u4e2d" * 500 + "x" * 1000  # 3,000 characters and not one place to break
XSS = '<img src=x onerror="window.__pwned=1">'


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class FakeRasa:
    """Rasa's tracker endpoint, answered from a real Rasa tracker store (SQLite, written as Rasa writes it).

    The same `events` table is what the console's live watcher reads, so a borrower's message written
    here reaches the open console as Rasa's would."""

    def __init__(self, path) -> None:
        self.store = TrackerStore(path)
        self.app = FastAPI()
        self.app.get("/conversations/{conversation}/tracker")(self.tracker)
        self.app.post("/conversations/{conversation}/tracker/events")(lambda conversation: {})

    def tracker(self, conversation: str) -> dict[str, Any]:
        tracker = self.store.trackers.get(conversation) or DialogueStateTracker.from_events(conversation, [])
        return tracker.current_state(EventVerbosity.ALL)

    def write(self, conversation: str, *events) -> None:
        """Append events and save the tracker (in a thread of its own: Playwright owns this one's loop)."""
        saving = threading.Thread(target=self.store.append, args=(conversation, *events))
        saving.start()
        saving.join(30)


def rasa_events(said: list[str | dict[str, Any]]) -> list:
    """The borrower's lines (and slots the bot set), then the hand-off reply and the pause."""
    events = [SlotSet(item["name"], item["value"]) if isinstance(item, dict) else
              UserUttered(item, intent={"name": "request_human", "confidence": 1.0}) for item in said]
    return events + [BotUttered("I've passed this conversation to a person."), ConversationPaused()]


class Desk:
    """The web app on a free port with its database; makes escalations as the action server records them."""

    def __init__(self, url: str, database: Database, rasa: FakeRasa) -> None:
        self.url, self.database, self.rasa = url, database, rasa
        self.conversations: dict[int, str] = {}  # escalation id -> conversation id (stays server-side)

    def escalate(self, *, said: list[str | dict[str, Any]] | None = None, reason: str = "request_human", priority: int = 3,
                 language: str = "en", summary: dict[str, Any] | None = None, minutes_ago: int = 5,
                 **columns: Any) -> int:
        conversation = "web:" + uuid.uuid4().hex + uuid.uuid4().hex
        said = said or ["I want to talk to a person"]
        self.rasa.write(conversation, *rasa_events(said))
        created = _now() - timedelta(minutes=minutes_ago)
        with self.database.unit_of_work() as session:
            escalation, _ = EscalationQueue(session).open(
                conversation_id=conversation, channel="socketio", reason=reason, priority=priority,
                summary={"verified": False, "language": language, **(summary or {})}, language=language, now=created)
            escalation.last_borrower_text = [text for text in said if isinstance(text, str)][-1][:280]
            escalation.last_borrower_at = created
            for name, value in columns.items():  # e.g. callback_at, as the waiting-borrower flow records it
                setattr(escalation, name, value)
            session.flush()
            self.conversations[escalation.id] = conversation
            return escalation.id

    def offer_shown(self, escalation_id: int, minutes_ago: int = 20) -> None:
        """A term-extension offer the bot showed in this conversation (as the negotiation records it)."""
        terms = {"monthly": "650.00", "months": 12, "first_payment": "2026-12-15", "total_paid": "7800.00",
                 "concessions": ["term_extension"]}
        with self.database.unit_of_work() as session:
            session.add(OfferRecord(conversation_id=self.conversations[escalation_id], loan_reference=LOAN,
                                    concessions="term_extension", monthly=Decimal("650.00"), months=12,
                                    total_paid=Decimal("7800.00"), authority="agent",
                                    rule="affordability.term_extension.max_12_months", policy_version="2026.12-4",
                                    terms_json=json.dumps(terms), shown_at=_now() - timedelta(minutes=minutes_ago)))


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Iterator[Desk]:
    var_dir = tmp_path_factory.mktemp("desk")
    rasa = FakeRasa(var_dir / "tracker.db")  # where the web app's settings look for Rasa's tracker store
    with serving(rasa.app) as rasa_url, pytest.MonkeyPatch.context() as env:
        env.setenv("APP_VAR_DIR", str(var_dir))
        env.setenv("RASA_URL", rasa_url)
        env.delenv("DATABASE_URL", raising=False)
        env.setenv("RECONCILE_INTERVAL_MINUTES", "0")
        settings = load_settings()
        migrate(settings.database_url)
        database = Database(settings.database_url)
        with database.unit_of_work() as session:
            for username, name, role in (("kim", "Kim", "agent"), ("lee", "Lee", "agent"), ("mei", "Mei", "agent"),
                                         ("sue", "Sue", "supervisor")):
                create_account(session, username, name, role, PASSWORD)
            fill_books(session, _now().date())  # loan HCF-9001 of Wang Fang, with arrears and history
        with serving(create_app(settings)) as url:
            yield Desk(url, database, rasa)
        database.dispose()
        rasa.store.store.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as running:
        yield running


# Records each desktop notification the page raises (the real one is still shown).
NOTIFICATION_SPY = """(() => {
  const Real = window.Notification;
  window.__notes = [];
  const Spy = function (title, options) { window.__notes.push((options || {}).body || title); return new Real(title, options); };
  Spy.requestPermission = Real.requestPermission.bind(Real);
  Object.defineProperty(Spy, "permission", { get: () => Real.permission });
  window.Notification = Spy;
})();"""


def signed_in(browser, desk: Desk, username: str, width: int = 1440, height: int = 900, *, notifications: bool = False):
    """A fresh browser context (own cookies and storage) signed in as `username`; returns its page."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  permissions=["notifications"] if notifications else [])
    if notifications:
        context.add_init_script(NOTIFICATION_SPY)
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(f"{desk.url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{desk.url}/console/")
    return page


def claim_in_page(page, desk: Desk, escalation_id: int) -> None:
    page.goto(f"{desk.url}/console/conversations/{escalation_id}")
    page.click("#claim")
    page.locator("#send:not([disabled])").wait_for()


def refs(page) -> set[str]:
    return {text.strip() for text in page.locator("#queue-rows tr td.ref a").all_inner_texts()}


def title_when(page, pattern: str, timeout: float = 25) -> re.Match:
    """The tab title once it matches `pattern` (the page's CSP forbids wait_for_function's eval)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        match = re.fullmatch(pattern, page.title())
        if match:
            return match
        page.wait_for_timeout(200)
    raise AssertionError(f"title {page.title()!r} never matched {pattern!r}")


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours (a transparent pane counts as the page's ground)."""
    def luminance(css: str) -> float:
        parts = [float(v) for v in re.findall(r"[\d.]+", css)]
        red, green, blue = parts[:3] if not (len(parts) == 4 and parts[3] == 0) else (244, 246, 248)
        linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
                  for c in (red, green, blue)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def fits(page) -> dict[str, Any]:
    return page.evaluate("""() => {
        const send = document.querySelector('#send').getBoundingClientRect();
        return {scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
                send: [send.left, send.top, send.right, send.bottom], width: innerWidth, height: innerHeight};
    }""")


def test_three_panes_hold_a_3000_character_word_with_send_on_screen(desk, browser):
    escalation_id = desk.escalate(said=["my hours at work were cut", LONG_WORD, XSS])
    page = signed_in(browser, desk, "kim")
    claim_in_page(page, desk, escalation_id)
    for width, height in ((1280, 720), (1440, 900)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{desk.url}/console/conversations/{escalation_id}")
        page.locator("#transcript li.borrower", has_text="RRRR").wait_for()
        page.click('.tabs button[data-view="mine"]')
        page.locator("#queue-rows tr.current", has_text="onerror").wait_for()  # the latest message, as text
        measured = fits(page)
        assert measured["scroll"] <= measured["client"], (width, measured)
        left, top, right, bottom = measured["send"]
        assert 0 <= left and right <= width and 0 <= top and bottom <= height, (width, measured)
        # Three panes side by side: the queue left of the transcript, the borrower panel right of it.
        queue_box = page.locator(".queue-pane").bounding_box()
        talk_box = page.locator(".transcript-pane").bounding_box()
        panel_box = page.locator(".borrower-pane").bounding_box()
        assert queue_box["x"] + queue_box["width"] <= talk_box["x"] + 1
        assert talk_box["x"] + talk_box["width"] <= panel_box["x"] + 1
        assert panel_box["x"] + panel_box["width"] <= width
    # Keyboard focus shows a ring of at least 3:1 against the pane behind it.
    page.focus("#reply-text")
    ring = page.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return [style.outlineStyle, parseFloat(style.outlineWidth), style.outlineColor,
                getComputedStyle(document.querySelector('.transcript-pane')).backgroundColor];
    }""")
    assert ring[0] == "solid" and ring[1] >= 2 and contrast(ring[2], ring[3]) >= 3, ring
    # Titles and headings name the escalation number, never the conversation id; markup stays text.
    assert page.title() == f"Escalation #{escalation_id} · Agent console" or page.title().endswith(
        f"Escalation #{escalation_id} · Agent console")
    assert page.locator("#conv-title").inner_text() == f"Escalation #{escalation_id}"
    assert XSS in page.locator("#transcript").inner_text()
    assert page.locator("#transcript img").count() == 0 and page.evaluate("window.__pwned") is None
    assert "web:" not in page.content()
    page.evaluate("document.getElementById('transcript').scrollTop = 0")  # the picture starts at the beginning
    page.screenshot(path=str(IMAGES / "console-conversation.png"))

    # A tablet: one column, still no sideways scrolling, and Send stays on screen (the reply box sticks).
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{desk.url}/console/conversations/{escalation_id}")
    page.locator("#transcript li.borrower", has_text="RRRR").wait_for()
    measured = fits(page)
    assert measured["scroll"] <= measured["client"], measured
    assert measured["send"][3] <= 1180 and measured["send"][2] <= 820, measured
    page.screenshot(path=str(IMAGES / "console-tablet-820x1180.png"))
    page.context.close()


def test_a_new_escalation_raises_the_count_in_the_tab_title(desk, browser):
    desk.escalate(said=["first in line"])
    desk.escalate(said=["I called twice already, nobody answers"], priority=2, reason="complain", minutes_ago=45)
    desk.escalate(said=["please call me back after 6pm"], language="zh", minutes_ago=30,
                  assistant_resumed_at=_now() - timedelta(minutes=20), callback_at=_now() + timedelta(hours=3))
    page = signed_in(browser, desk, "kim", 1280, 720, notifications=True)
    assert page.get_attribute("#sound-toggle", "aria-pressed") == "false"  # sound is off until asked for
    page.click("#sound-toggle")
    page.click("#notify-toggle")
    page.locator("#notify-toggle[aria-pressed=true]").wait_for()
    page.reload()  # both choices are kept by this browser
    assert page.get_attribute("#sound-toggle", "aria-pressed") == "true" and page.inner_text("#sound-toggle") == "Sound on"
    assert page.inner_text("#notify-toggle") == "Desktop alerts on"
    before = int(title_when(page, r"\((\d+)\) Agent console").group(1))
    page.evaluate("window.__sameDocument = true")
    new_id = desk.escalate(said=["I need help with my loan please"], priority=2, reason="vulnerable")
    title_when(page, re.escape(f"({before + 1}) Agent console"))
    row = page.locator("#queue-rows tr", has=page.locator("td.ref a", has_text=f"#{new_id}"))
    row.wait_for()
    assert "I need help with my loan please" in row.inner_text()  # the latest borrower message, not a snapshot
    assert page.evaluate("window.__sameDocument") is True  # arrived live, no reload
    assert page.evaluate("window.__notes") == [f"New escalation #{new_id}"]
    late = page.locator("#queue-rows tr", has_text="nobody answers")
    assert late.locator(".sla.breached").inner_text().startswith("Overdue by")
    marked = page.locator("#queue-rows tr", has_text="after 6pm")
    assert "Assistant resumed" in marked.inner_text() and "Callback requested" in marked.inner_text()
    page.screenshot(path=str(IMAGES / "console-queue.png"))
    page.context.close()


def test_a_borrower_reply_arrives_live_in_the_conversation_the_agent_holds(desk, browser):
    escalation_id = desk.escalate(said=["is anyone there?"])
    page = signed_in(browser, desk, "kim")
    claim_in_page(page, desk, escalation_id)
    page.click('.tabs button[data-view="mine"]')
    page.locator("#queue-rows tr.current").wait_for()
    page.evaluate("window.__sameDocument = true")
    before = int(title_when(page, r"(?:\((\d+)\) )?Escalation #\d+ · Agent console").group(1) or 0)
    desk.rasa.write(desk.conversations[escalation_id], UserUttered("我还在等，请回复 <b>now</b>"))
    page.locator("#transcript li.borrower", has_text="我还在等").wait_for(timeout=15000)
    row = page.locator("#queue-rows tr.current")
    row.locator(".unread", has_text="1 unread").wait_for(timeout=15000)
    page.locator("#queue-rows tr.current", has_text="我还在等，请回复 <b>now</b>").wait_for(timeout=15000)
    title_when(page, re.escape(f"({before + 1}) Escalation #{escalation_id} · Agent console"))
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#transcript b").count() == 0
    page.context.close()


def test_a_canned_reply_arrives_with_the_borrowers_details_filled_and_stays_editable(desk, browser):
    shortcut = "arrears" + uuid.uuid4().hex[:4]
    # A supervisor writes the reply in the settings pane of the queue page.
    boss = signed_in(browser, desk, "sue")
    boss.select_option("#canned-admin-language", "en")
    boss.fill("#canned-shortcut", shortcut)
    boss.fill("#canned-title", "Arrears reminder")
    boss.fill("#canned-body", "Hello {name}, your arrears are {arrears}.")
    boss.click("#canned-save")
    boss.locator("#canned-admin-list tr", has_text="/" + shortcut).wait_for()
    boss.context.close()

    escalation_id = desk.escalate(
        said=[{"event": "slot", "name": "verified", "value": True}, "my hours at work were cut",
              {"event": "slot", "name": "hardship_cause", "value": "reduced_income"}, "what do I owe now?"],
        summary={"verified": True, "loan_ref": LOAN, "arrears": "1200.00", "currency": "CNY",
                 "outstanding_balance": "13723.63", "days_past_due": 41, "hardship_cause": "reduced_income",
                 "monthly_income": "8000", "monthly_costs": "6200"})
    desk.offer_shown(escalation_id)
    page = signed_in(browser, desk, "kim")
    claim_in_page(page, desk, escalation_id)
    facts = page.locator("#facts")
    facts.locator("dd", has_text="Wang Fang").wait_for()
    # Money with its currency and grouping; the hardship as the borrower put it; the offer as a table.
    shown = facts.inner_text().replace("\xa0", " ")  # Intl puts a no-break space after the currency code
    assert "CNY 13,723.63" in shown and "CNY 1,200.00" in shown and "CNY 1,800.00" in shown  # surplus too
    assert "my hours at work were cut" in shown and "Reduced income" in shown and "Web chat" in shown
    offers = page.locator("table.offers").inner_text().replace("\xa0", " ")
    assert "Term extension" in offers and "affordability.term_extension.max_12_months" in offers
    assert "CNY 650.00" in offers and "2026.12-4" in offers
    page.set_viewport_size({"width": 1440, "height": 1400})  # tall enough for the whole panel in one picture
    page.locator(".borrower-pane").screenshot(path=str(IMAGES / "console-borrower-panel.png"))
    page.set_viewport_size({"width": 1440, "height": 900})

    page.click("#reply-text")
    page.keyboard.type("/" + shortcut[:9])
    page.locator("#canned-list li", has_text="Arrears reminder").wait_for()
    page.keyboard.press("Enter")
    text = page.input_value("#reply-text")
    assert text.startswith("Hello Wang Fang, your arrears are "), text
    assert "1,200.00" in text and "{" not in text and "[" not in text and "/" + shortcut not in text
    page.keyboard.type(" Can we talk about it?")  # still the agent's text to change
    assert page.input_value("#reply-text") == text + " Can we talk about it?"
    assert page.locator("#canned-menu").is_hidden()

    # Ctrl+/ opens the same list from the keyboard; a click inserts at the caret.
    page.fill("#reply-text", "")
    page.click("#reply-text")
    page.keyboard.press("Control+/")
    page.locator("#canned-list li", has_text="Arrears reminder").click()
    assert page.input_value("#reply-text") == text
    page.context.close()


def test_search_and_filters_narrow_the_queue(desk, browser):
    tag = "".join(random.choices("ghijkmnopqrstuvwxyz", k=8))  # no digits: "#12" must not match it
    salary = desk.escalate(said=[f"my salary {tag} came late"], language="zh", reason="dispute_debt", priority=2)
    human = desk.escalate(said=[f"a person please {tag}"], reason="request_human", priority=3)
    complaint = desk.escalate(said=[f"this is a complaint {tag}"], reason="complain", priority=4, minutes_ago=90)
    ours = {f"#{salary}", f"#{human}", f"#{complaint}"}
    page = signed_in(browser, desk, "kim")

    def narrows_to(action, expected: set[str]) -> None:
        """After `action`, the queue shows exactly `expected` of our three (waiting up to 10 s for the answer)."""
        action()
        deadline = time.time() + 10
        while (refs(page) & ours) != expected and time.time() < deadline:
            page.wait_for_timeout(100)
        assert refs(page) & ours == expected

    page.locator("#queue-rows tr", has_text=tag).first.wait_for()
    assert refs(page) >= ours
    narrows_to(lambda: page.fill("#queue-q", f"salary {tag}"), {f"#{salary}"})
    narrows_to(lambda: page.fill("#queue-q", f"#{human}"), {f"#{human}"})
    narrows_to(lambda: page.fill("#queue-q", ""), ours)
    page.click(".more-filters summary")
    narrows_to(lambda: page.select_option("#filter-language", "zh"), {f"#{salary}"})
    page.select_option("#filter-language", "")
    narrows_to(lambda: page.select_option("#filter-reason", "complain"), {f"#{complaint}"})
    page.select_option("#filter-reason", "")
    narrows_to(lambda: page.select_option("#filter-priority", "3"), {f"#{human}"})
    page.select_option("#filter-priority", "")
    narrows_to(lambda: page.select_option("#filter-age", "60"), {f"#{complaint}"})
    page.context.close()


def test_an_agent_transfers_a_conversation_and_the_other_sees_it_in_mine(desk, browser):
    escalation_id = desk.escalate(said=["can someone senior look at this"])
    kim = signed_in(browser, desk, "kim")
    claim_in_page(kim, desk, escalation_id)
    kim.locator("#transfer-box").wait_for()
    kim.select_option("#transfer-to", "lee")
    kim.click("#transfer")
    kim.locator("#conv-status", has_text="lee").wait_for()

    lee = signed_in(browser, desk, "lee")
    lee.click('.tabs button[data-view="mine"]')
    lee.locator("#queue-rows tr", has=lee.locator("td.ref a", has_text=f"#{escalation_id}")).wait_for()
    lee.goto(f"{desk.url}/console/conversations/{escalation_id}")
    lee.locator("#facts", has_text="Claimed by lee").wait_for()
    lee.locator("#notes", has_text="kim").wait_for()  # the transfer is on record for colleagues
    assert not lee.locator("#send").is_disabled()
    lee.context.close()
    kim.context.close()


def test_an_agent_releases_closes_and_reopens_a_conversation(desk, browser):
    escalation_id = desk.escalate(said=["I will call the branch instead"])
    page = signed_in(browser, desk, "kim")
    claim_in_page(page, desk, escalation_id)
    page.click("#release")
    page.locator("#facts", has_text="Waiting").wait_for()
    assert page.locator("#claim").is_visible() and page.locator("#release").is_hidden()
    page.click("#claim")
    page.locator("#facts", has_text="Claimed by kim").wait_for()
    page.select_option("#outcome", "message_taken")
    page.click("#close")
    page.locator("#facts", has_text="Closed · Message taken").wait_for()
    assert page.locator("#send").is_disabled() and page.locator("#hand-back").is_hidden()
    page.click("#reopen")
    page.locator("#facts", has_text="Waiting").wait_for()
    page.locator("#queue-rows tr.current .mark.reopened").wait_for()  # marked in the queue for whoever takes it
    page.context.close()


def test_the_console_speaks_chinese_and_remembers_the_choice(desk, browser):
    escalation_id = desk.escalate(said=["我的工资被拖欠了，这个月还不上"], language="zh",
                                  summary={"verified": True, "loan_ref": LOAN})
    page = signed_in(browser, desk, "mei")
    assert page.locator('.tabs button[data-view="waiting"]').inner_text() == "Waiting"
    page.click('.lang-switch button[data-lang="zh"]')
    assert page.locator('.tabs button[data-view="waiting"]').inner_text() == "等待中"
    assert page.locator("#queue-title").inner_text() == "队列"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.wait_for_load_state("networkidle")  # the choice is saved on the server
    page.context.close()

    # A new browser (no local storage) signed in as the same agent opens in Chinese.
    page = signed_in(browser, desk, "mei")
    page.locator('.tabs button[data-view="waiting"]', has_text="等待中").wait_for()
    claim_in_page(page, desk, escalation_id)
    page.locator("#send", has_text="发送").wait_for()
    page.locator("#facts", has_text="由 mei 认领").wait_for()
    assert page.locator("#conv-title").inner_text() == f"转人工 #{escalation_id}"
    assert "我的工资被拖欠了" in page.locator("#transcript").inner_text()
    page.screenshot(path=str(IMAGES / "console-zh.png"))
    page.click('.lang-switch button[data-lang="en"]')
    assert page.locator("#send").inner_text() == "Send"
    page.context.close()


def test_a_supervisor_creates_a_key_sees_it_once_revokes_it_and_archives_a_canned_reply(desk, browser):
    page = signed_in(browser, desk, "sue")
    page.fill("#key-name", "CRM <script>window.__pwned=1</script>")
    page.check('input[name="scope"][value="escalations:write"]')
    page.click("#key-form button[type=submit]")
    page.locator("#key-created").wait_for()
    key = page.locator("#key-value").inner_text()
    assert re.fullmatch(r"dk_[0-9a-f]{12}_\S+", key), key
    row = page.locator("#key-list tr", has_text="CRM <script>")
    row.wait_for()
    assert key.split("_")[1] in row.inner_text() and "escalations:write" in row.inner_text()
    assert key not in page.locator("#key-list").inner_text()  # the list never shows the secret
    page.on("dialog", lambda dialog: dialog.accept())
    row.locator("button.revoke").click()
    page.locator("#key-list tr.revoked", has_text="CRM <script>").wait_for()
    page.reload()
    page.locator("#key-list tr.revoked", has_text="CRM <script>").wait_for()  # the list is filled after load
    assert page.locator("#key-value").inner_text() == ""  # shown once: gone after a reload
    assert page.locator("#key-list tr.revoked", has_text="CRM <script>").count() == 1

    shortcut = "bye" + uuid.uuid4().hex[:4]
    page.select_option("#canned-admin-language", "zh")
    page.fill("#canned-shortcut", shortcut)
    page.fill("#canned-title", "再见")
    page.fill("#canned-body", "{name}，感谢您的耐心。")
    page.click("#canned-save")
    reply = page.locator("#canned-admin-list tr", has_text="/" + shortcut)
    reply.locator("button.edit").click()
    assert page.input_value("#canned-title") == "再见"
    page.fill("#canned-title", "结束语")
    page.click("#canned-save")
    page.locator("#canned-admin-list tr", has_text="结束语").wait_for()
    page.locator("#canned-admin-list tr", has_text="/" + shortcut).locator("button.archive").click()
    page.locator("#canned-error", has_text="Archived.").wait_for()
    page.locator("#canned-admin-list tr", has_text="/" + shortcut).wait_for(state="detached")
    assert page.evaluate("window.__pwned") is None
    page.context.close()


def test_a_supervisor_reaches_analytics_and_every_chart_is_an_svg_beside_its_table(browser, desk):
    desk.escalate(said=["I want a person"], reason="request_human")
    page = signed_in(browser, desk, "sue")
    page.click("a.top-link")
    page.wait_for_url(f"{desk.url}/console/analytics")
    charts = page.locator("img.kpi-chart")
    assert charts.count() >= 5
    for index in range(charts.count()):
        source = charts.nth(index).get_attribute("src")
        answer = page.request.get(desk.url + source)
        assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml"), source
        assert b"<svg" in answer.body()
    assert page.locator("a.csv").count() >= charts.count()  # every table has its CSV; some have no chart
    assert page.locator("table").count() >= charts.count()
    page.screenshot(path=str(IMAGES / "console-analytics.png"))
    # Agents have no link and no page.
    agent = signed_in(browser, desk, "kim")
    assert agent.locator("a.top-link").count() == 0
    assert agent.request.get(f"{desk.url}/console/analytics").status == 403
    agent.context.close()
    page.context.close()
