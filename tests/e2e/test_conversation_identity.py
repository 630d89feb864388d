"""Nobody can join another person's conversation by sending its id (socket.io widget channel)."""
from __future__ import annotations

import queue
import uuid

import pytest
import socketio

pytestmark = pytest.mark.slow


class Borrower:
    """A socket.io client as the web widget is one."""

    def __init__(self, url: str) -> None:
        self.replies: queue.Queue = queue.Queue()
        self.confirmed: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", lambda data: self.replies.put(data.get("text", "")))
        self.client.on("session_confirm", lambda session: self.confirmed.put(session))
        self.client.connect(url, socketio_path="/socket.io")  # long-polling: no websocket-client installed

    def session(self, requested: str) -> str:
        self.client.emit("session_request", {"session_id": requested})
        return self.confirmed.get(timeout=20)

    def say(self, session: str, text: str) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": session})

    def drain(self, wait: float = 8.0) -> list[str]:
        out = []
        try:
            out.append(self.replies.get(timeout=wait))
            while True:
                out.append(self.replies.get(timeout=2))
        except queue.Empty:
            return out

    def close(self) -> None:
        self.client.disconnect()


def test_widget_conversations_are_namespaced_and_ids_must_be_long_and_random(stack):
    borrower = Borrower(stack.url)
    try:
        session = uuid.uuid4().hex + uuid.uuid4().hex
        assert borrower.session(session) == session
        borrower.say(session, "HCF-1001 1988-04-12")
        assert "3,930.00" in "\n".join(borrower.drain())
        tracker = stack.tracker(f"web:{session}")
        assert tracker["slots"]["verified"] is True
        # A REST/Telegram-style id or a short guessable one is never accepted as a session.
        for requested in ("telegram:123456", "1", "e2e-abc", "web:" + session):
            other = Borrower(stack.url)
            try:
                assert other.session(requested) != requested
            finally:
                other.close()
    finally:
        borrower.close()


def test_a_message_with_an_invalid_session_id_is_ignored(stack):
    borrower = Borrower(stack.url)
    try:
        borrower.say("telegram:42", "HCF-1001 1988-04-12")
        assert borrower.drain(wait=4) == []
        assert stack.tracker("telegram:42")["events"] == [] or all(
            e.get("event") != "user" for e in stack.tracker("telegram:42")["events"])
    finally:
        borrower.close()
