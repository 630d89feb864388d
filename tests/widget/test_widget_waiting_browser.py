"""The widget while a borrower waits for a person, in Chromium on a phone-sized screen (390x844):
no typing dots while paused unless the agent types, the unread badge, the launcher's accessible
name, the focus trap of the full-screen panel, the focus ring's contrast and the language buttons."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from channels.console.rasa_api import agent_message_event
from tests.widget.conftest import API_TOKEN

pytestmark = pytest.mark.slow


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rgb(css: str) -> tuple[int, int, int]:
    r, g, b = re.search(r"rgba?\((\d+),\s*(\d+),\s*(\d+)", css).groups()
    return int(r), int(g), int(b)


RING = """el => { el.focus({focusVisible: true}); const s = getComputedStyle(el);
  let bg = el.parentElement; while (bg && getComputedStyle(bg).backgroundColor === 'rgba(0, 0, 0, 0)') bg = bg.parentElement;
  return [s.outlineColor, s.boxShadow, getComputedStyle(bg).backgroundColor]; }"""


def test_badge_focus_trap_ring_and_language_buttons_on_a_phone(widget):
    widget.goto().open()
    page = widget.page
    # Waiting for a person: the place in the queue, then no "Assistant is typing" dots while paused...
    widget.ask("I want to talk to a person", re.compile(r"You are number \d+ in the queue"))
    typing = page.locator("#debt-assistant-widget .typing")
    widget.say("hello? is anyone there?")
    expect(typing).to_be_hidden()
    page.wait_for_timeout(1500)  # the dots would show at once after sending; they must not come back
    expect(typing).to_be_hidden()
    # ...unless the agent types (the console's relay, through Rasa's widget channel).
    relayed = requests.post(f"{widget.stack.url}/webhooks/socketio/typing", params={"token": API_TOKEN},
                            json={"conversation_id": widget.conversation_id(), "typing": True, "name": "Ada"},
                            timeout=10)
    assert relayed.status_code == 200
    expect(typing).to_be_visible()
    expect(typing).to_contain_text("Ada is typing…")

    english, chinese = page.get_by_role("button", name="English"), page.get_by_role("button", name="中文")
    expect(english).to_have_attribute("lang", "en")
    expect(chinese).to_have_attribute("lang", "zh-Hans")

    # Full screen on a phone: Tab and Shift+Tab never leave the panel.
    expect(widget.dialog).to_have_attribute("aria-modal", "true")
    inside = "el => { const a = el.getRootNode().activeElement; return !!a && el.contains(a); }"
    for key in ["Tab"] * 12 + ["Shift+Tab"] * 12:
        page.keyboard.press(key)
        assert widget.dialog.evaluate(inside), f"focus left the full-screen panel after {key}"

    # The focus ring stands out (>= 3:1) from the header's and the toolbar's backgrounds.
    for control in (english, page.get_by_role("button", name="New conversation")):
        outline, shadow, background = control.evaluate(RING)
        best = max(contrast(rgb(outline), rgb(background)),
                   contrast(rgb(shadow), rgb(background)) if "rgb" in shadow else 0)
        assert best >= 3, f"focus ring {outline} / {shadow} on {background}: {best:.2f}:1"

    # A reply while the panel is closed: a badge on the launcher, named with its visible text.
    page.keyboard.press("Escape")
    expect(widget.dialog).to_be_hidden()
    widget.inject_bot_event(agent_message_event("Ada", "Are you still there?", "en"))
    badge = page.locator("#debt-assistant-widget .badge")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("1")
    expect(page.get_by_role("button", name=re.compile(r"^Chat with us 1 new messages$"))).to_be_visible()
    widget.launcher.click()
    expect(widget.dialog).to_be_visible()
    expect(page.locator("#debt-assistant-widget .msg.agent").last).to_contain_text("Are you still there?")
    expect(typing).to_be_hidden()  # the agent's message ends the agent's typing
    widget.page.keyboard.press("Escape")
    expect(badge).to_be_hidden()
