"""The action server is down: the borrower is told so, nothing of the turn is saved, and the same
message works once it is back (rasa_runtime/outage.py), on the real Rasa server, over the widget
and Telegram (whose webhook answers 503, so Telegram delivers the update again)."""
from __future__ import annotations

import contextlib
import os
import signal
import uuid
from typing import Iterator

import pytest

from channels.outage_reply import TECHNICAL_TROUBLE_REPLY
from tests.e2e.borrowers import SocketIOBorrower, TelegramBorrower
from tests.e2e.stack import Stack

pytestmark = pytest.mark.slow
TROUBLE = TECHNICAL_TROUBLE_REPLY.split(".")[0]
IDENTITY = "HCF-1001 1988-04-12"


@contextlib.contextmanager
def action_server_down(stack: Stack) -> Iterator[None]:
    """The shared stack's action server stopped for the block, started again after it."""
    actions = stack.processes[0]
    os.killpg(actions.pid, signal.SIGTERM)
    actions.wait(timeout=20)
    try:
        yield
    finally:
        stack.processes[0] = stack._spawn("actions", stack.action_server_command())
        stack._wait_ready(timeout=60)


def user_texts(borrower) -> list[str]:
    return [event["text"] for event in borrower.tracker()["events"] if event["event"] == "user"]


def test_a_widget_turn_that_needs_the_down_action_server_is_answered_clearly_and_not_saved(fresh_stack):
    borrower = SocketIOBorrower(fresh_stack)
    try:
        borrower.say("hi")
        with action_server_down(fresh_stack):
            replies = borrower.deliver(IDENTITY, uuid.uuid4().hex[:16])
            assert len(replies) == 1 and TROUBLE in replies[0], replies
            assert IDENTITY not in user_texts(borrower)
        assert "3,930.00" in "\n".join(borrower.say(IDENTITY))   # the borrower sends it again
        assert user_texts(borrower) == ["hi", IDENTITY]
    finally:
        borrower.close()


def test_a_telegram_update_that_needs_the_down_action_server_is_refused_and_answered_on_redelivery(
        fresh_stack, telegram):
    borrower = TelegramBorrower(fresh_stack, telegram)
    borrower.say("hi")
    update = borrower.text_update(IDENTITY)
    with action_server_down(fresh_stack):
        status, replies = borrower.deliver(update)
        assert status == 503                 # Telegram delivers it again later
        assert [TROUBLE in reply.text for reply in replies] == [True], replies
        assert IDENTITY not in user_texts(borrower)
    status, replies = borrower.deliver(update)   # the redelivery, same update id
    assert status == 200
    assert "3,930.00" in "\n".join(reply.text for reply in replies)
    assert user_texts(borrower) == ["hi", IDENTITY]
