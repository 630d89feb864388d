"""No channel can address another channel's conversation (issue 9, security items 2 and 5).

Conversation ids: REST `rest:<sender>`, the widget `web:<server-issued hex>`, Telegram
`telegram:<chat id>`. A REST caller names only REST conversations; a widget socket speaks
only for the session the server bound to it, whatever id or old token it sends.
"""
from __future__ import annotations

import queue

import pytest
import requests
import socketio

from tests.e2e.borrowers import RestBorrower, SocketIOBorrower, TelegramBorrower

pytestmark = pytest.mark.slow


def user_events(stack, conversation_id: str) -> list[dict]:
    return [event for event in stack.tracker(conversation_id)["events"] if event["event"] == "user"]


def rest_say(stack, sender: str, text: str) -> list[dict]:
    response = requests.post(f"{stack.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize("victim_channel", ["telegram", "socketio"])
def test_a_rest_sender_naming_another_channels_conversation_gets_its_own_rest_conversation(
        stack, telegram, victim_channel):
    victim = TelegramBorrower(stack, telegram) if victim_channel == "telegram" else SocketIOBorrower(stack)
    try:
        assert "3,930.00" in "\n".join(victim.say("HCF-1001 1988-04-12"))
        before = user_events(stack, victim.conversation_id)
        replies = rest_say(stack, victim.conversation_id, "how much do I owe")
        assert "3,930" not in str(replies)
        assert all(reply["recipient_id"] == "rest:" + victim.conversation_id for reply in replies)
        assert user_events(stack, victim.conversation_id) == before  # the victim's conversation untouched
        assert [e["text"] for e in user_events(stack, "rest:" + victim.conversation_id)] == ["how much do I owe"]
        assert stack.tracker("rest:" + victim.conversation_id)["slots"]["verified"] is not True
        assert "3,930.00" in "\n".join(victim.say("how much do I owe"))
    finally:
        victim.close()


class RawSocket:
    """A socket.io client that sends whatever it likes (what an attacker's script would do)."""

    def __init__(self, url: str) -> None:
        self.replies: queue.Queue = queue.Queue()
        self.confirmed: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", lambda data: self.replies.put(data.get("text", "")))
        self.client.on("session_confirm", self.confirmed.put)
        self.client.connect(url, socketio_path="/socket.io", transports=["polling"])

    def request(self, data: dict) -> dict:
        self.client.emit("session_request", data)
        return self.confirmed.get(timeout=20)

    def say(self, text: str, **extra) -> list[str]:
        self.client.call("user_uttered", {"message": text, **extra}, timeout=120)
        out = []
        while not self.replies.empty():
            out.append(self.replies.get())
        return out

    def close(self) -> None:
        self.client.disconnect()


def test_a_socket_cannot_join_or_speak_in_a_widget_conversation_by_its_id_or_an_old_token(stack):
    borrower = SocketIOBorrower(stack)
    first_token = borrower.token
    stranger = RawSocket(stack.url)
    try:
        assert "3,930.00" in "\n".join(borrower.say("HCF-1001 1988-04-12"))
        borrower.client.disconnect()  # a reload: the widget resumes with its token, which rotates
        borrower.client.connect(stack.url, socketio_path="/socket.io", transports=["polling"], wait_timeout=30)
        assert borrower.ready.wait(30) and borrower.token != first_token
        before = user_events(stack, borrower.conversation_id)

        for attempt in ({"session_id": borrower.session_id}, {"session_id": borrower.conversation_id},
                        {"resume_token": first_token}):
            confirmed = stranger.request(attempt)
            assert confirmed["session_id"] != borrower.session_id and not confirmed["resumed"], attempt
        replies = stranger.say("how much do I owe", session_id=borrower.session_id)
        assert replies and "3,930" not in "\n".join(replies)
        assert user_events(stack, borrower.conversation_id) == before
        assert "3,930.00" in "\n".join(borrower.say("how much do I owe"))  # the borrower carries on
        assert stranger.replies.empty()  # and the stranger heard none of it
    finally:
        stranger.close()
        borrower.close()


@pytest.mark.parametrize("foreign", ["telegram:5550001", "rest:e2e", "web:" + "a" * 64, "a" * 64])
def test_a_session_id_sent_with_a_message_is_ignored(stack, foreign):
    stranger = RawSocket(stack.url)
    try:
        own = stranger.request({})["session_id"]
        stranger.say("hi", session_id=foreign)
        assert [e["text"] for e in user_events(stack, f"web:{own}")] == ["hi"]
        foreign_id = foreign if ":" in foreign else f"web:{foreign}"
        assert user_events(stack, foreign_id) == []
    finally:
        stranger.close()


def test_a_message_before_any_session_is_ignored(stack):
    stranger = RawSocket(stack.url)
    try:
        assert stranger.say("HCF-1001 1988-04-12", session_id="telegram:42") == []
    finally:
        stranger.close()


def test_rest_conversations_stay_rest_conversations(stack):
    borrower = RestBorrower(stack)
    borrower.say("HCF-1001 1988-04-12")
    assert borrower.conversation_id.startswith("rest:")
    assert borrower.tracker()["slots"]["verified"] is True


def test_an_unsigned_telegram_update_is_refused(stack, telegram):
    borrower = TelegramBorrower(stack, telegram)
    response = requests.post(f"{stack.url}/webhooks/telegram/webhook", json={"update_id": 1, "message": {}},
                             headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}, timeout=30)
    assert response.status_code == 403 and telegram.sent_to(borrower.chat_id) == []
