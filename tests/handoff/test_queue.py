"""The agent queue against a real migrated SQLite file: ordering, de-duplication, the claim race."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from bot.handoff.models import CLAIMED, CLOSED, WAITING
from bot.handoff.queue import EscalationQueue, NotAllowed, approved_offer_of, may_approve, summary_of
from bot.storage import Database
from tests.handoff.races import assert_one_claim_won, assert_one_close_won, claim_race, close_race, run_at_once

T0 = datetime(2026, 11, 28, 10, 0)


def open_one(db: Database, conversation: str, priority: int = 3, minutes: int = 0, reason: str = "request_human",
             summary: dict | None = None) -> int:
    with db.unit_of_work() as session:
        escalation, _ = EscalationQueue(session).open(
            conversation_id=conversation, channel="socketio", reason=reason, priority=priority,
            summary=summary or {"verified": False, "language": "en"}, language="en",
            now=T0 + timedelta(minutes=minutes))
        return escalation.id


def test_waiting_queue_is_ordered_by_priority_then_age(database):
    open_one(database, "old-normal", 3, minutes=0)
    open_one(database, "new-urgent", 1, minutes=10)
    open_one(database, "newer-normal", 3, minutes=5)
    open_one(database, "high", 2, minutes=20)
    with database.unit_of_work() as session:
        order = [e.conversation_id for e in EscalationQueue(session).waiting()]
    assert order == ["new-urgent", "high", "old-normal", "newer-normal"]


def test_a_second_trigger_updates_the_open_escalation_instead_of_duplicating(database):
    first = open_one(database, "conv", 3, reason="request_human")
    second = open_one(database, "conv", 1, minutes=3, reason="self_harm",
                      summary={"verified": False, "language": "en", "last_messages": ["..."]})
    assert first == second
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        [escalation] = queue.waiting()
        assert (escalation.priority, escalation.reason) == (1, "self_harm")
        assert escalation.created_at == T0  # keeps its place in the queue
        assert [r["reason"] for r in summary_of(escalation)["reasons"]] == ["request_human", "self_harm"]


def test_a_closed_escalation_does_not_absorb_a_new_one(database):
    first = open_one(database, "conv")
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        queue.close(queue.get(first), "resolved_other", T0)
    assert open_one(database, "conv", minutes=30) != first


def test_claiming_moves_an_escalation_from_waiting_to_mine(database):
    escalation_id = open_one(database, "conv")
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        assert queue.claim(escalation_id, "ada", T0)
        assert not queue.claim(escalation_id, "bob", T0)
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        assert queue.waiting() == []
        assert [e.id for e in queue.mine("ada")] == [escalation_id]
        assert queue.mine("bob") == []
        assert queue.get(escalation_id).status == CLAIMED


def race_database(tmp_path, name: str) -> Database:
    from bot.storage.schema import migrate

    url = f"sqlite:///{tmp_path / name}"
    migrate(url)
    return Database(url)


def test_of_many_agents_claiming_at_once_exactly_one_wins(tmp_path):
    db = race_database(tmp_path, "race.db")
    try:
        race, holder = claim_race(db)
    finally:
        db.dispose()
    assert_one_claim_won(race, holder)


def test_of_an_agent_and_a_supervisor_closing_at_once_exactly_one_wins(tmp_path):
    db = race_database(tmp_path, "close-race.db")
    try:
        race, final = close_race(db)
    finally:
        db.dispose()
    assert_one_close_won(race, final)


def test_a_crashing_racer_fails_the_race():
    """The race helpers cannot pass over a thread that raised (they once swallowed it)."""
    def crash(barrier):
        barrier.wait()
        raise RuntimeError("database is locked")

    race = run_at_once({"ok": lambda barrier: barrier.wait() or True, "crashing": crash})
    assert isinstance(race.crashes["crashing"], RuntimeError)
    with pytest.raises(AssertionError, match="crashed"):
        assert_one_claim_won(race, "ok")


def handed_back_by_ada(database) -> int:
    escalation_id = open_one(database, "conv")
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        queue.claim(escalation_id, "ada", T0)
        queue.hand_back(queue.get(escalation_id), T0)
    return escalation_id


def test_a_hand_back_rasa_could_not_take_is_reopened_for_the_same_agent(database):
    escalation_id = handed_back_by_ada(database)
    with database.unit_of_work() as session:
        assert EscalationQueue(session).reopen(escalation_id, "handed_back")
        assert not EscalationQueue(session).reopen(escalation_id, "handed_back")  # once
    with database.unit_of_work() as session:
        again = EscalationQueue(session).get(escalation_id)
        assert (again.status, again.claimed_by, again.outcome, again.closed_at) == (CLAIMED, "ada", None, None)


def test_only_the_holder_or_a_supervisor_may_act(database):
    escalation_id = open_one(database, "conv")
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        escalation = queue.get(escalation_id)
        with pytest.raises(NotAllowed):
            queue.ensure_can_act(escalation, "ada", "agent")  # not claimed yet
        queue.claim(escalation_id, "ada", T0)
        session.refresh(escalation)
        queue.ensure_can_act(escalation, "ada", "agent")
        queue.ensure_can_act(escalation, "sam", "supervisor")
        with pytest.raises(NotAllowed):
            queue.ensure_can_act(escalation, "bob", "agent")


OFFER = {"monthly": "500.00", "months": 6, "first_payment": "2026-12-05", "total": "3000.00", "currency": "CNY"}


@pytest.mark.parametrize("authority, role, allowed", [
    ("bot", "agent", True), ("agent", "agent", True), ("agent", "supervisor", True),
    ("supervisor", "agent", False), ("supervisor", "supervisor", True),
    # An offer that does not say which authority it needs (a borrower's counter-offer) fails closed.
    (None, "agent", False), (None, "supervisor", True), ("", "agent", False), ("anyone", "agent", False),
])
def test_offers_are_approved_within_the_role_limits(database, authority, role, allowed):
    escalation_id = open_one(database, "conv", reason="needs_approval", summary={
        "verified": True, "language": "en", "proposed_offer": {**OFFER, "authority": authority}})
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        escalation = queue.get(escalation_id)
        if allowed:
            approved = queue.approve_offer(escalation, "someone", role, T0)
            assert approved["monthly"] == "500.00" and approved["approved_by"] == "someone"
            assert approved_offer_of(escalation)["months"] == 6
        else:
            with pytest.raises(NotAllowed):
                queue.approve_offer(escalation, "someone", role, T0)
            assert escalation.approved_offer is None


def test_a_counter_offer_without_an_authority_is_not_agent_approvable(database):
    """The negotiation stores a borrower's counter-offer without an authority: only a supervisor may approve."""
    counter = {"counter_offer": "100", "status": "below_floor"}
    escalation_id = open_one(database, "conv", reason="needs_approval", summary={
        "verified": True, "language": "en", "proposed_offer": counter})
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        escalation = queue.get(escalation_id)
        assert not may_approve(escalation, "agent") and may_approve(escalation, "supervisor")
        with pytest.raises(NotAllowed, match="supervisor"):
            queue.approve_offer(escalation, "ada", "agent", T0)
        assert escalation.approved_offer is None


def test_rejecting_an_offer_leaves_a_note_and_no_approval(database):
    escalation_id = open_one(database, "conv", summary={"verified": True, "language": "en",
                                                        "proposed_offer": {**OFFER, "authority": "agent"}})
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        escalation = queue.get(escalation_id)
        queue.reject_offer(escalation, "ada", T0, "income not evidenced")
        assert escalation.approved_offer is None
        assert summary_of(escalation)["offer_decision"]["decision"] == "rejected"
        assert "income not evidenced" in queue.notes(escalation_id)[0].text


def test_hand_back_closes_with_its_outcome_and_stays_findable(database):
    escalation_id = handed_back_by_ada(database)
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        assert queue.open_for("conv") is None
        latest = queue.latest_for("conv")
        assert (latest.status, latest.outcome) == (CLOSED, "handed_back")
        assert [e.id for e in queue.all()] == [escalation_id]


def test_unknown_outcomes_are_refused(database):
    escalation_id = open_one(database, "conv")
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        with pytest.raises(ValueError):
            queue.close(queue.get(escalation_id), "whatever", T0)
        assert queue.get(escalation_id).status == WAITING


def test_summary_round_trips_chinese_text(database):
    escalation_id = open_one(database, "conv", summary={"verified": False, "language": "zh",
                                                        "last_messages": ["我要找人工客服"]})
    with database.unit_of_work() as session:
        escalation = EscalationQueue(session).get(escalation_id)
        assert "我要找人工客服" in escalation.summary  # stored readable, not \\u-escaped
        assert json.loads(escalation.summary)["last_messages"] == ["我要找人工客服"]
