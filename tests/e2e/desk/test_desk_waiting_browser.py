"""The borrower's side of waiting, in Chromium on a 390x844 phone, against the closed-desk stack of
conftest.py (real Rasa, action server and web app): out of hours the borrower is told in their language
and offered three choices, and "continue" brings the assistant back while the escalation stays queued,
marked; after an agent closes the conversation the one satisfaction question is answered by a tap and
recorded once. Screenshots go to docs/img/ (shown in docs/agent-guide.md)."""
from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from bot.handoff.queue import EscalationQueue
from tests.conftest import PROJECT_ROOT
from tests.e2e.desk.conftest import AGENT_PASSWORD
from tests.e2e.desk.test_desk_waiting import escalation_of, paused
from tests.handoff.test_console_api import sign_in

pytestmark = pytest.mark.slow

IMAGES = PROJECT_ROOT / "docs" / "img"
OUT_OF_HOURS = {
    "en": {"ask": "I want to talk to a person", "told": "not at the desk right now",
           "choices": ["Continue with the assistant", "Leave a callback time", "Keep waiting"],
           "back": "the assistant is back with you", "then": "how much do I owe?"},
    "zh": {"ask": "转人工", "told": "现在不是人工客服的工作时间",
           "choices": ["继续使用智能助理", "留下回电时间", "继续等待"],
           "back": "智能助理继续为您服务", "then": "我欠多少钱？"},
}


def choice_buttons(widget, titles: list[str]):
    return [widget.page.get_by_role("button", name=title, exact=True).last for title in titles]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_out_of_hours_the_borrower_is_told_in_their_language_and_continue_brings_the_assistant_back(
        phone, stack, lang):
    words = OUT_OF_HOURS[lang]
    widget = phone("zh-CN" if lang == "zh" else "en-GB").goto().open()
    widget.ask(words["ask"], words["told"])
    widget.wait_turn_over()
    buttons = choice_buttons(widget, words["choices"])
    for button in buttons:
        expect(button).to_be_enabled()
    expect(widget.page.locator("#debt-assistant-widget .typing")).to_be_hidden()  # nobody types: no dots
    assert widget.page.evaluate("() => document.documentElement.scrollWidth") <= 390
    widget.page.screenshot(path=str(IMAGES / f"widget-out-of-hours-{lang}-390x844.png"))

    conversation = widget.conversation_id()
    assert escalation_of(stack, conversation).status == "waiting"
    assert not paused(stack, conversation)  # the bot stays on for the borrower's choice

    widget.last_said = words["choices"][0]
    buttons[0].click()
    widget.expect_bot_says(words["back"])
    widget.wait_turn_over()
    for button in buttons:
        expect(button).to_be_disabled()  # answered: the offer cannot be taken twice
    escalation = escalation_of(stack, conversation)
    assert escalation.status == "waiting" and escalation.assistant_resumed_at is not None  # queued, marked
    assert escalation.language == lang

    widget.say(words["then"])  # the assistant answers again
    widget.wait_turn_over()
    assert widget.replies_to_last_message().count() >= 1
    assert not paused(stack, conversation)
    assert escalation_of(stack, conversation).status == "waiting"


def test_after_the_agent_closes_the_borrower_rates_the_help_with_a_tap_recorded_once(phone, stack, web_url):
    widget = phone().goto().open()
    widget.ask("I want to talk to a person", "not at the desk right now")
    widget.wait_turn_over()
    widget.last_said = "Keep waiting"
    widget.page.get_by_role("button", name="Keep waiting", exact=True).last.click()
    widget.expect_bot_says("A person will reply here")
    conversation = widget.conversation_id()
    with stack.database() as database, database.unit_of_work() as session:
        escalation_id = EscalationQueue(session).latest_for(conversation).id

    # The agent claims and closes it in the console (the web app's own routes, as a browser would call them).
    with httpx.Client(base_url=web_url, timeout=30) as console:
        csrf = sign_in(console, "deskada", AGENT_PASSWORD)
        assert csrf, "the agent could not sign in"
        headers = {"X-CSRF-Token": csrf}
        assert console.post(f"/console/api/escalations/{escalation_id}/claim", headers=headers).status_code == 200
        expect(widget.page.locator("#debt-assistant-widget").get_by_text("Ada joined")).to_be_visible()
        closed = console.post(f"/console/api/escalations/{escalation_id}/close", json={"outcome": "message_taken"},
                              headers=headers)
        assert closed.status_code == 200, closed.text

    question = widget.bot_messages().filter(has_text="how satisfied are you").last
    expect(question).to_be_visible(timeout=45_000)
    ratings = ["1 Poor", "2", "3", "4", "5 Very good"]
    buttons = [question.get_by_role("button", name=title, exact=True) for title in ratings]
    for button in buttons:
        expect(button).to_be_enabled()
    widget.page.screenshot(path=str(IMAGES / "widget-satisfaction-en-390x844.png"))

    widget.last_said = "4"
    buttons[3].click()
    expect(widget.user_messages().last).to_contain_text("4")
    widget.expect_bot_says("Thank you for telling us")
    widget.wait_turn_over()
    for button in buttons:
        expect(button).to_be_disabled()  # one answer per question
    escalation = escalation_of(stack, conversation)
    assert escalation.satisfaction == 4 and escalation.satisfaction_at is not None

    widget.say("1")  # a later "1" is an ordinary message: the first answer stands
    widget.wait_turn_over()
    assert escalation_of(stack, conversation).satisfaction == 4
