"""The desk's queue rules without HTTP: two transfers at once (one winner), the first-reply SLA on a
controlled clock, reopening, and search with SQL metacharacters and emoji."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from bot.handoff.queue import Conflict, EscalationQueue, NotAllowed, QueueFilter
from bot.handoff.sla import first_reply_sla
from tests.handoff.account_rows import loan
from tests.handoff.races import T0, open_escalation, run_at_once

TARGETS = {1: 5, 2: 15, 3: 60, 4: 240}


def test_of_two_transfers_at_once_exactly_one_wins(database):
    escalation_id = open_escalation(database, "contested")
    with database.unit_of_work() as session:
        EscalationQueue(session).claim(escalation_id, "ada", T0)

    def transferrer(by: str, role: str, to: str):
        def transfer(barrier: threading.Barrier) -> str:
            with database.unit_of_work() as session:
                queue = EscalationQueue(session)
                escalation = queue.get(escalation_id)  # both read it while Ada holds it
                barrier.wait()
                try:
                    queue.transfer(escalation, to, by, role, T0)
                    return "moved"
                except Conflict:
                    return "refused"
        return transfer

    race = run_at_once({"ada": transferrer("ada", "agent", "bob"), "sam": transferrer("sam", "supervisor", "cy")})
    assert race.crashes == {}
    assert sorted(race.results.values()) == ["moved", "refused"]
    winner = next(name for name, result in race.results.items() if result == "moved")
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        assert queue.get(escalation_id).claimed_by == {"ada": "bob", "sam": "cy"}[winner]
        notes = [n.text for n in queue.notes(escalation_id)]
        assert notes == [f"transferred from ada to {'bob' if winner == 'ada' else 'cy'}"]


def test_only_the_holder_or_a_supervisor_transfers_or_releases(database):
    escalation_id = open_escalation(database, "c1")
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        queue.claim(escalation_id, "ada", T0)
        with pytest.raises(NotAllowed):
            queue.transfer(queue.get(escalation_id), "bob", "bob", "agent", T0)
        with pytest.raises(Conflict):
            queue.release(escalation_id, "bob", "agent")
        queue.release(escalation_id, "ada", "agent")
        assert (queue.get(escalation_id).status, queue.get(escalation_id).claimed_by) == ("waiting", None)


def test_sla_is_breached_after_the_target_and_met_by_the_first_reply(database):
    escalation_id = open_escalation(database, "c1")  # priority 3: 60 minutes
    with database.unit_of_work() as session:
        escalation = EscalationQueue(session).get(escalation_id)

        def sla_at(now: datetime):
            return first_reply_sla(priority=escalation.priority, opened_at=escalation.created_at,
                                   reopened_at=escalation.reopened_at,
                                   first_reply_at=escalation.first_agent_reply_at, targets=TARGETS, now=now)

        early = sla_at(T0 + timedelta(minutes=59))
        assert (early.target_minutes, early.remaining_seconds, early.breached) == (60, 60, False)
        assert early.due_at == T0 + timedelta(minutes=60)
        late = sla_at(T0 + timedelta(minutes=75))
        assert (late.remaining_seconds, late.breached, late.met_at) == (-900, True, None)
        EscalationQueue(session).record_agent_reply(escalation_id, T0 + timedelta(minutes=30))
        EscalationQueue(session).record_agent_reply(escalation_id, T0 + timedelta(minutes=90))  # not the first
        session.refresh(escalation)
        met = sla_at(T0 + timedelta(hours=5))
        assert (met.breached, met.met_at, met.remaining_seconds) == (False, T0 + timedelta(minutes=30), 1800)


def test_a_priority_the_policy_does_not_name_gets_the_most_relaxed_target():
    sla = first_reply_sla(priority=9, opened_at=T0, reopened_at=None, first_reply_at=None, targets=TARGETS, now=T0)
    assert sla.target_minutes == 240


def test_reopen_restarts_the_clock_and_refuses_a_second_open_escalation(database):
    escalation_id = open_escalation(database, "c1")
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        queue.claim(escalation_id, "ada", T0)
        queue.record_agent_reply(escalation_id, T0)
        queue.close(queue.get(escalation_id), "message_taken", T0)
        with pytest.raises(NotAllowed):
            queue.reopen_closed(queue.get(escalation_id), "bob", "agent", T0)
        later = T0 + timedelta(hours=1)
        queue.reopen_closed(queue.get(escalation_id), "ada", "agent", later)
        reopened = queue.get(escalation_id)
        assert (reopened.status, reopened.claimed_by, reopened.reopened_at, reopened.first_agent_reply_at) == (
            "waiting", None, later, None)
        queue.close(reopened, "message_taken", later)
    newer = open_escalation(database, "c1")  # the borrower came back on their own
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        with pytest.raises(Conflict):
            queue.reopen_closed(queue.get(escalation_id), "sam", "supervisor", later)
        assert queue.get(newer).status == "waiting"


@pytest.mark.parametrize("query", ["%", "_", "' OR 1=1 --", "\\", '"', "😀%", "100%_off"])
def test_search_takes_sql_metacharacters_literally(database, query):
    plain = open_escalation(database, "c-plain")
    tricky = open_escalation(database, "c-tricky")
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        queue.get(plain).last_borrower_text = "I can pay next week"
        queue.get(tricky).last_borrower_text = f"look: {query} here"
        found = queue.search("all", "sam", QueueFilter(text=query), T0)
        assert [e.id for e in found] == [tricky]


def test_search_finds_number_loan_reference_name_and_words(database):
    with database.unit_of_work() as session:
        loan(session)  # HCF-9001, Wang Fang
        loan(session, "HCF-1234").borrower.full_name = "李 明"
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        verified, _ = queue.open(conversation_id="v", channel="socketio", reason="request_human", priority=3,
                                 summary={"verified": True, "loan_ref": "HCF-9001", "language": "zh",
                                          "last_messages": ["我失业了 😢"]}, language="zh", now=T0)
        other, _ = queue.open(conversation_id="o", channel="telegram", reason="dispute_debt", priority=2,
                              summary={"verified": True, "loan_ref": "HCF-1234", "language": "zh"},
                              language="zh", now=T0 + timedelta(minutes=1))

        def ids(**wanted):
            return [e.id for e in queue.search("all", "sam", QueueFilter(**wanted), T0 + timedelta(hours=1))]

        assert ids(text=f"#{verified.id}") == [verified.id] and ids(text=str(other.id)) == [other.id]
        assert ids(text="hcf-9001") == [verified.id]
        assert ids(text="wang") == [verified.id] and ids(text="李") == [other.id]
        assert ids(text="😢") == [verified.id] and ids(text="失业") == [verified.id]
        assert ids(text="nobody") == []
        assert ids(priority=2) == [other.id] and ids(reason="request_human") == [verified.id]
        assert ids(min_age_minutes=60) == [verified.id]  # the other is 59 minutes old
        assert ids(language="en") == []


def test_within_a_priority_the_riskiest_verified_loan_comes_first(database):
    """Queue order: priority, then the newest early-warning score of the verified loan, then age."""
    import json as json_module
    from datetime import datetime as dt

    from bot.handoff.models import Escalation
    from bot.handoff.queue import EscalationQueue
    from bot.risk.models import RiskScore

    def add(session, conversation, priority, created, loan=None):
        summary = {"verified": True, "loan_ref": loan} if loan else {}
        session.add(Escalation(conversation_id=conversation, reason="request_human", priority=priority,
                               summary=json_module.dumps(summary), status="waiting", created_at=created))

    with database.unit_of_work() as session:
        add(session, "c-old-unscored", 3, dt(2026, 12, 1, 8, 0))
        add(session, "c-low-risk", 3, dt(2026, 12, 1, 8, 5), "HCF-1")
        add(session, "c-high-risk", 3, dt(2026, 12, 1, 8, 10), "HCF-2")
        add(session, "c-urgent", 1, dt(2026, 12, 1, 9, 0))
        for loan, probability, at in (("HCF-1", 0.05, dt(2026, 12, 1)), ("HCF-2", 0.02, dt(2026, 11, 1)),
                                      ("HCF-2", 0.41, dt(2026, 12, 1))):  # HCF-2's newest score is 0.41
            session.add(RiskScore(loan_reference=loan, scored_at=at, model_version="t", probability=probability,
                                  band="high" if probability > 0.3 else "low", reasons="[]"))
    with database.unit_of_work() as session:
        order = [e.conversation_id for e in EscalationQueue(session).waiting()]
    assert order == ["c-urgent", "c-high-risk", "c-low-risk", "c-old-unscored"]
