"""A widget message delivered twice is one turn (rasa_runtime/once.py), on the real Rasa server.

widget.js sends a message again, with the same id, when the socket it went out on was lost before
the acknowledgement; the scale-out rehearsal saw the second delivery answered as a second turn.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest

from tests.e2e.borrowers import TURN_TIMEOUT, SocketIOBorrower

pytestmark = pytest.mark.slow


def user_texts(borrower: SocketIOBorrower) -> list[str]:
    return [event["text"] for event in borrower.tracker()["events"] if event["event"] == "user"]


def test_a_message_delivered_again_after_its_answer_is_not_answered_again(fresh_stack):
    borrower = SocketIOBorrower(fresh_stack)
    try:
        message_id = uuid.uuid4().hex[:16]
        first = borrower.deliver("HCF-1001 1988-04-12", message_id)
        assert "3,930.00" in "\n".join(first)
        again = borrower.deliver("HCF-1001 1988-04-12", message_id)
        assert again == []
        assert user_texts(borrower).count("HCF-1001 1988-04-12") == 1
        # The conversation goes on from where the first delivery left it.
        assert "3,930.00" in "\n".join(borrower.say("how much do I owe"))
    finally:
        borrower.close()


def test_two_deliveries_of_one_message_at_the_same_moment_make_one_turn(fresh_stack):
    borrower = SocketIOBorrower(fresh_stack)
    try:
        message_id = uuid.uuid4().hex[:16]
        acknowledged = threading.Semaphore(0)
        start = len(borrower.inbox)
        for _ in range(2):   # the second is sent while the first holds the conversation's lock
            borrower.client.emit("user_uttered", {"message": "HCF-1001 1988-04-12", "message_id": message_id,
                                                  "metadata": {"language": "en"}},
                                 callback=lambda *_: acknowledged.release())
        assert acknowledged.acquire(timeout=TURN_TIMEOUT) and acknowledged.acquire(timeout=TURN_TIMEOUT)
        time.sleep(0.5)   # anything a second turn would have sent
        texts = [str(event.get("text") or "") for event in borrower.inbox[start:]]
        assert sum("3,930.00" in text for text in texts) == 1, texts
        assert user_texts(borrower).count("HCF-1001 1988-04-12") == 1
    finally:
        borrower.close()


@pytest.mark.parametrize("given", [None, "", "short", "x" * 65, "/intent{\"a\":1}", "1; DROP TABLE events"])
def test_without_a_valid_message_id_each_delivery_is_a_turn_of_its_own(fresh_stack, given):
    """An id the widget did not make is not an id: Rasa makes its own and nothing is de-duplicated."""
    borrower = SocketIOBorrower(fresh_stack)
    try:
        assert borrower.deliver("hello", given)
        assert borrower.deliver("hello", given)
        assert user_texts(borrower).count("hello") == 2
    finally:
        borrower.close()
