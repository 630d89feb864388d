"""The contact facts read from a real SQLite database: attempts, opt-outs, handoffs, disputes,
vulnerability, holds and whose chat a message would go to."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from bot.accounts.models import ContactOptOut, Loan
from bot.handoff.models import CLOSED, WAITING, Escalation
from bot.negotiation.policy import load_policy
from bot.outreach.facts import breathing_space_hold, contact_facts
from bot.outreach.models import (
    AGENT_PAUSE, ATTEMPT_FAILED, ATTEMPT_REFUSED, ATTEMPT_SENT, BREATHING_SPACE, PROMISE_REMINDER, Contact,
    ContactAttempt, OutreachHold,
)
from bot.outreach.rules import decide
from bot.verification.models import VerifiedSession
from tests.conftest import PROJECT_ROOT

RULES = load_policy(PROJECT_ROOT / "policy.yml").outreach
NOW = datetime(2026, 11, 28, 4, 0)  # 12:00 in Shanghai
LOAN = "LN-100001"
CHAT = "tg-5551"


def verified(session, conversation_id=CHAT, loan=LOAN, channel="telegram"):
    session.add(VerifiedSession(conversation_id=conversation_id, loan_reference=loan, channel=channel,
                                verified_at=NOW - timedelta(days=3), last_seen_at=NOW - timedelta(days=3)))
    session.flush()


def escalation(session, reason, *, conversation_id=CHAT, status=WAITING, created_at=NOW - timedelta(hours=1),
               summary=None):
    row = Escalation(conversation_id=conversation_id, channel="telegram", reason=reason, priority=2,
                     summary=json.dumps(summary if summary is not None else {"verified": True, "language": "en"}),
                     status=status, created_at=created_at, language="en")
    session.add(row)
    session.flush()
    return row


def facts(session, conversation_id=CHAT, channel="telegram", now=NOW, loan=LOAN):
    return contact_facts(session, loan_reference=loan, channel=channel, conversation_id=conversation_id, now=now)


def test_a_verified_chat_with_nothing_recorded_is_clear_and_decide_sends(database):
    with database.unit_of_work() as session:
        verified(session)
        found = facts(session)
    assert found.own_verified_chat and not found.opted_out and not found.handoff_open
    assert not found.dispute_or_complaint_open and not found.vulnerable and found.hold is None
    assert found.attempts == ()
    assert decide(now=NOW, time_zone="Asia/Shanghai", jurisdiction="CN", facts=found, rules=RULES).send


def test_a_chat_where_this_loan_was_never_verified_is_not_its_own(database):
    with database.unit_of_work() as session:
        verified(session, conversation_id="tg-other", loan="LN-999999")
        verified(session)
        assert facts(session, conversation_id="tg-other").own_verified_chat is False
        assert facts(session).own_verified_chat is True


def test_attempts_count_sent_and_failed_on_this_channel_in_the_last_seven_days(database):
    with database.unit_of_work() as session:
        verified(session)
        contact = Contact(key="promise:1:before:1", loan_reference=LOAN, conversation_id=CHAT, channel="telegram",
                          reason=PROMISE_REMINDER, subject="promise:1", jurisdiction="CN", due_at=NOW,
                          created_at=NOW - timedelta(days=9))
        session.add(contact)
        session.flush()
        for ago, outcome, channel in [(timedelta(days=1), ATTEMPT_SENT, "telegram"),
                                      (timedelta(days=2), ATTEMPT_FAILED, "telegram"),
                                      (timedelta(days=3), ATTEMPT_REFUSED, "telegram"),
                                      (timedelta(days=4), ATTEMPT_SENT, "socketio"),
                                      (timedelta(days=8), ATTEMPT_SENT, "telegram")]:
            session.add(ContactAttempt(contact_id=contact.id, loan_reference=LOAN, conversation_id=CHAT,
                                       channel=channel, attempted_at=NOW - ago, outcome=outcome))
        session.flush()
        found = facts(session)
    assert found.attempts == (NOW - timedelta(days=2), NOW - timedelta(days=1))


@pytest.mark.parametrize("opt_out, expected", [
    ({"conversation_id": CHAT, "channel": "telegram"}, True),
    ({"conversation_id": CHAT, "channel": None}, True),                    # every channel
    ({"conversation_id": "widget-77", "loan_reference": LOAN, "channel": "telegram"}, True),  # by loan
    ({"conversation_id": CHAT, "channel": "socketio"}, False),             # another channel
    ({"conversation_id": "tg-stranger", "channel": "telegram"}, False),    # someone else
])
def test_opt_outs_on_this_channel_or_every_channel_are_honoured(database, opt_out, expected):
    with database.unit_of_work() as session:
        verified(session)
        session.add(ContactOptOut(recorded_at=NOW - timedelta(days=1), message="STOP", **opt_out))
        session.flush()
        assert facts(session).opted_out is expected


def test_an_opt_out_in_another_verified_chat_of_the_loan_counts(database):
    with database.unit_of_work() as session:
        verified(session)
        verified(session, conversation_id="tg-older")
        session.add(ContactOptOut(conversation_id="tg-older", channel="telegram", recorded_at=NOW, message="退订"))
        session.flush()
        assert facts(session).opted_out is True


def test_an_open_handoff_blocks_and_a_closed_one_does_not(database):
    with database.unit_of_work() as session:
        verified(session)
        row = escalation(session, "request_human")
        found = facts(session)
        assert found.handoff_open and not found.dispute_or_complaint_open
        assert decide(now=NOW, time_zone="Asia/Shanghai", jurisdiction="CN", facts=found,
                      rules=RULES).rule == "handoff_open"
        row.status, row.closed_at = CLOSED, NOW
        session.flush()
        assert facts(session).handoff_open is False


def test_a_handoff_found_through_the_summarys_loan_reference(database):
    with database.unit_of_work() as session:
        verified(session)
        escalation(session, "request_human", conversation_id="web-unverified-9",
                   summary={"verified": True, "loan_ref": LOAN, "language": "zh"})
        escalation(session, "request_human", conversation_id="web-other",
                   summary={"verified": True, "loan_ref": "LN-1000011", "language": "zh"})  # contains LOAN's text
        assert facts(session).handoff_open is True
    with database.unit_of_work() as session:
        assert facts(session, loan="LN-1000011", conversation_id="x").own_verified_chat is False


@pytest.mark.parametrize("reason", ["dispute_debt", "complain"])
def test_an_open_dispute_or_complaint(database, reason):
    with database.unit_of_work() as session:
        verified(session)
        escalation(session, reason)
        found = facts(session)
        assert found.dispute_or_complaint_open and found.handoff_open
        assert decide(now=NOW, time_zone=None, jurisdiction="CN", facts=found, rules=RULES).rule == "dispute_open"


def test_a_dispute_raised_before_a_more_urgent_reason_still_counts(database):
    with database.unit_of_work() as session:
        verified(session)
        escalation(session, "abuse", summary={"verified": True, "reasons": [
            {"reason": "dispute_debt", "priority": 2, "at": "2026-11-28T02:00:00"},
            {"reason": "abuse", "priority": 1, "at": "2026-11-28T03:00:00"}]})
        assert facts(session).dispute_or_complaint_open is True


@pytest.mark.parametrize("reason, created_ago, expected", [
    ("vulnerable", timedelta(days=200), True),
    ("self_harm", timedelta(days=364), True),
    ("self_harm", timedelta(days=366), False),   # more than 12 months ago
    ("request_human", timedelta(days=2), False),
])
def test_vulnerability_in_the_last_twelve_months_even_when_closed(database, reason, created_ago, expected):
    with database.unit_of_work() as session:
        verified(session)
        escalation(session, reason, status=CLOSED, created_at=NOW - created_ago)
        found = facts(session)
        assert found.vulnerable is expected and found.handoff_open is False


def test_holds_in_force_now_only(database):
    with database.unit_of_work() as session:
        verified(session)
        session.add_all([
            OutreachHold(loan_reference=LOAN, kind=AGENT_PAUSE, starts_at=NOW - timedelta(days=10),
                         ends_at=NOW - timedelta(days=1), created_by="ana"),                      # over
            OutreachHold(loan_reference=LOAN, kind=AGENT_PAUSE, starts_at=NOW - timedelta(days=1),
                         ends_at=None, lifted_at=NOW - timedelta(hours=1), created_by="ana"),     # lifted
            OutreachHold(loan_reference=LOAN, kind=AGENT_PAUSE, starts_at=NOW + timedelta(days=1),
                         ends_at=None, created_by="ana"),                                        # not yet
        ])
        session.flush()
        assert facts(session).hold is None
        session.add(OutreachHold(loan_reference=LOAN, kind=AGENT_PAUSE, starts_at=NOW - timedelta(hours=2),
                                 ends_at=None, created_by="ana"))
        session.flush()
        assert facts(session).hold == AGENT_PAUSE
        assert facts(session, loan="LN-100002", conversation_id="x").hold is None


def test_a_uk_breathing_space_lasts_sixty_days_and_outranks_a_pause(database):
    with database.unit_of_work() as session:
        verified(session)
        session.add(OutreachHold(loan_reference=LOAN, kind=AGENT_PAUSE, starts_at=NOW, created_by="ana"))
        hold = breathing_space_hold(session, LOAN, "UK", RULES, NOW, created_by="ana")
        assert hold.ends_at - hold.starts_at == timedelta(days=60)
        assert facts(session, now=NOW + timedelta(days=59)).hold == BREATHING_SPACE
        found = facts(session, now=NOW + timedelta(days=59))
        assert decide(now=NOW, time_zone="Europe/London", jurisdiction="UK", facts=found,
                      rules=RULES).rule == "hold:breathing_space"
        session.query(OutreachHold).filter(OutreachHold.kind == AGENT_PAUSE).delete()
        session.flush()
        assert facts(session, now=NOW + timedelta(days=60)).hold is None


def test_no_breathing_space_where_the_law_has_none(database):
    with database.unit_of_work() as session:
        with pytest.raises(ValueError, match="CN has no breathing space"):
            breathing_space_hold(session, LOAN, "CN", RULES, NOW, created_by="ana")


def test_demo_borrowers_verified_chat_is_clear(demo_database):
    with demo_database.unit_of_work() as session:
        loan = session.query(Loan).order_by(Loan.id).first()
        verified(session, conversation_id="demo-chat", loan=loan.reference)
        found = facts(session, conversation_id="demo-chat", loan=loan.reference)
        assert found.own_verified_chat and found.hold is None and not found.handoff_open
