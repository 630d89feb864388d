"""What the planner schedules: the right moments in UTC, once, and nothing that stopped making sense."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from bot.agreements.models import OfferRecord, PromiseToPay
from bot.lifecycle.models import PlanStanding
from bot.outreach.models import (
    DROPPED, INSTALMENT_REMINDER, MISSED_INSTALMENT, MISSED_PROMISE, PROMISE_REMINDER, REENGAGEMENT, SCHEDULED,
    Contact,
)
from bot.outreach.planner import NO_LONGER_DUE, plan_contacts
from bot.verification.models import VerifiedSession
from tests.unit.outreach_factories import POLICY, agreement, borrower_with_chat, promise

NOW = datetime(2026, 11, 21, 0, 0)


def contacts(database) -> list[Contact]:
    with database.unit_of_work() as session:
        return list(session.execute(select(Contact).order_by(Contact.key)).scalars())


@pytest.mark.parametrize("zone, expected_utc", [
    ("Asia/Shanghai", datetime(2026, 11, 29, 2, 0)),        # 10:00 +08:00
    ("America/New_York", datetime(2026, 11, 29, 15, 0)),    # 10:00 -05:00 (EST)
    ("Europe/London", datetime(2026, 11, 29, 10, 0)),       # 10:00 +00:00 (GMT)
    (None, datetime(2026, 11, 29, 2, 0)),                   # unknown: the first served zone (Shanghai)
    ("Not/AZone", datetime(2026, 11, 29, 2, 0)),            # invalid: treated as unknown
])
def test_promise_reminder_is_due_the_day_before_at_local_reminder_time(database, zone, expected_utc):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001", time_zone=zone)
        promise(session, "HCF-1001", date(2026, 11, 30))
        assert plan_contacts(session, POLICY, NOW) == 1
    [contact] = contacts(database)
    assert (contact.reason, contact.due_at, contact.status) == (PROMISE_REMINDER, expected_utc, SCHEDULED)
    assert contact.conversation_id == "telegram:HCF-1001" and contact.channel == "telegram"
    assert contact.time_zone == (zone if zone == "Asia/Shanghai" or zone in ("America/New_York", "Europe/London")
                                 else None)
    assert contact.jurisdiction == POLICY.outreach.default_jurisdiction


def test_reminder_across_a_dst_change_uses_the_offset_of_its_own_day(database):
    # 2027-03-14: US clocks go forward; a reminder on the 14th at 10:00 EDT is 14:00 UTC, not 15:00.
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001", time_zone="America/New_York", jurisdiction="US")
        promise(session, "HCF-1001", date(2027, 3, 15))
        plan_contacts(session, POLICY, datetime(2027, 3, 10))
    [contact] = contacts(database)
    assert contact.due_at == datetime(2027, 3, 14, 14, 0) and contact.jurisdiction == "US"


def test_planning_twice_creates_the_same_rows_once(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001")
        promise(session, "HCF-1001", date(2026, 11, 30))
        agreement(session, "HCF-1001", [date(2026, 12, 10), date(2027, 1, 10)])
        first = plan_contacts(session, POLICY, NOW)
    before = [(c.key, c.due_at) for c in contacts(database)]
    with database.unit_of_work() as session:
        second = plan_contacts(session, POLICY, NOW + timedelta(minutes=1))
    assert first == 5 and second == 0   # 1 promise reminder + 2 instalments x (3, 1 days before)
    assert [(c.key, c.due_at) for c in contacts(database)] == before


def test_reminders_whose_moment_passed_are_not_created(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001")
        agreement(session, "HCF-1001", [date(2026, 11, 23)])
        # 3 days before (Nov 20 10:00 +08) has passed; 1 day before (Nov 22 02:00 UTC) has not.
        plan_contacts(session, POLICY, NOW)
    assert [c.key for c in contacts(database)] == ["agreement:AGR-HCF-1001:1:before:1"]


def test_a_kept_promise_drops_its_pending_reminder(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001")
        row = promise(session, "HCF-1001", date(2026, 11, 30))
        plan_contacts(session, POLICY, NOW)
        session.execute(update(PromiseToPay).where(PromiseToPay.id == row.id).values(status="kept"))
        plan_contacts(session, POLICY, NOW + timedelta(hours=1))
    [contact] = contacts(database)
    assert (contact.status, contact.outcome) == (DROPPED, NO_LONGER_DUE)


def test_a_completed_plan_and_a_paid_instalment_drop_their_reminders(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001")
        first = agreement(session, "HCF-1001", [date(2026, 12, 10), date(2027, 1, 10)])
        plan_contacts(session, POLICY, NOW)
        session.execute(update(PlanStanding).where(PlanStanding.agreement_id == first.id)
                        .values(paid=Decimal("100.00")))
        plan_contacts(session, POLICY, NOW)
    by_key = {c.key: c.status for c in contacts(database)}
    assert by_key["agreement:AGR-HCF-1001:1:before:3"] == DROPPED
    assert by_key["agreement:AGR-HCF-1001:2:before:3"] == SCHEDULED
    with database.unit_of_work() as session:
        session.execute(update(PlanStanding).values(state="completed"))
        plan_contacts(session, POLICY, NOW)
    assert {c.status for c in contacts(database)} == {DROPPED}


def test_a_plan_without_standing_yet_gets_reminders(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001")
        agreement(session, "HCF-1001", [date(2026, 12, 10)], state=None)
        assert plan_contacts(session, POLICY, NOW) == 2


def test_a_broken_promise_is_followed_up_after_the_configured_days(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001")
        promise(session, "HCF-1001", date(2026, 11, 20), status="broken")
        plan_contacts(session, POLICY, NOW)
    [contact] = contacts(database)
    # due Nov 20 + 2 days, 10:00 Shanghai = Nov 22 02:00 UTC
    assert (contact.reason, contact.due_at) == (MISSED_PROMISE, datetime(2026, 11, 22, 2, 0))


def test_a_broken_promise_superseded_by_a_new_promise_is_not_followed_up(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001")
        promise(session, "HCF-1001", date(2026, 11, 20), status="broken")
        promise(session, "HCF-1001", date(2026, 12, 20), recorded_at=datetime(2026, 11, 20, 23, 0))
        plan_contacts(session, POLICY, NOW)
    assert [c.reason for c in contacts(database)] == [PROMISE_REMINDER]


def test_a_plan_in_arrears_is_followed_up_about_its_first_unpaid_instalment(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001")
        agreement(session, "HCF-1001", [date(2026, 11, 15), date(2026, 12, 15)], state="in_arrears")
        plan_contacts(session, POLICY, NOW)
    missed = [c for c in contacts(database) if c.reason == MISSED_INSTALMENT]
    # Nov 15 + 2 days at 10:00 passed 4 days ago (within the late limit): due now.
    assert [(c.key, c.due_at) for c in missed] == [("agreement:AGR-HCF-1001:1:missed", NOW)]
    assert {c.reason for c in contacts(database)} == {MISSED_INSTALMENT, INSTALMENT_REMINDER}


def offer_shown(session, reference: str, at: datetime) -> None:
    session.add(OfferRecord(conversation_id=f"telegram:{reference}", loan_reference=reference, concessions="",
                            monthly=Decimal("100.00"), months=3, total_paid=Decimal("300.00"), authority="bot",
                            rule="plan", policy_version="t", terms_json="{}", shown_at=at))


def test_reengagement_once_after_idle_hours_without_an_outcome(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001", verified_at=datetime(2026, 11, 20, 9, 0))
        offer_shown(session, "HCF-1001", datetime(2026, 11, 20, 9, 3))
        assert plan_contacts(session, POLICY, datetime(2026, 11, 21, 8, 0)) == 0   # idle 23 h
        assert plan_contacts(session, POLICY, datetime(2026, 11, 21, 9, 0)) == 1
        assert plan_contacts(session, POLICY, datetime(2026, 11, 21, 12, 0)) == 0
    [contact] = contacts(database)
    assert (contact.reason, contact.key) == (REENGAGEMENT, "reengage:telegram:HCF-1001")


def test_no_reengagement_for_a_borrower_who_was_never_shown_an_offer(database):
    # Verified, checked the balance, left: not mid-negotiation, so not chased.
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001", verified_at=datetime(2026, 11, 20, 9, 0))
        offer_shown(session, "HCF-1001", datetime(2026, 11, 19, 9, 0))  # shown in an earlier visit
        assert plan_contacts(session, POLICY, datetime(2026, 11, 21, 10, 0)) == 0


def test_no_reengagement_after_a_promise_was_made(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001", verified_at=datetime(2026, 11, 20, 9, 0))
        offer_shown(session, "HCF-1001", datetime(2026, 11, 20, 9, 3))
        promise(session, "HCF-1001", date(2026, 11, 21), recorded_at=datetime(2026, 11, 20, 9, 10))
        assert plan_contacts(session, POLICY, datetime(2026, 11, 21, 10, 0)) == 0


def test_target_is_the_latest_verified_chat_on_a_proactive_channel(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001", channel="telegram", verified_at=datetime(2026, 11, 10))
        session.add(VerifiedSession(conversation_id="widget-abc", loan_reference="HCF-1001", channel="socketio",
                                    verified_at=datetime(2026, 11, 12), last_seen_at=datetime(2026, 11, 12)))
        session.add(VerifiedSession(conversation_id="rest-1", loan_reference="HCF-1001", channel="rest",
                                    verified_at=datetime(2026, 11, 13), last_seen_at=datetime(2026, 11, 13)))
        promise(session, "HCF-1001", date(2026, 11, 30))
        plan_contacts(session, POLICY, NOW)
    [contact] = [c for c in contacts(database) if c.reason == PROMISE_REMINDER]
    assert (contact.conversation_id, contact.channel) == ("widget-abc", "socketio")


def test_no_proactive_chat_means_no_contact(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001", channel="rest")
        promise(session, "HCF-1001", date(2026, 11, 30))
        assert plan_contacts(session, POLICY, NOW) == 0


def risk_score(session, reference: str, probability: float, at: datetime) -> None:
    from bot.risk.models import RiskScore
    session.add(RiskScore(loan_reference=reference, scored_at=at, model_version="t", probability=probability,
                          band="high" if probability >= 0.3 else "low", reasons="[]"))


def test_a_high_risk_borrower_not_yet_late_gets_one_check_in_per_period(database):
    from bot.lifecycle.models import LoanDayStatus
    from bot.accounts.models import Loan
    from bot.outreach.models import RISK_CHECKIN

    with database.unit_of_work() as session:
        for reference in ("HCF-1001", "HCF-1002", "HCF-1003", "HCF-1004"):
            borrower_with_chat(session, reference)
        risk_score(session, "HCF-1001", 0.45, NOW - timedelta(hours=3))   # high, current: checked in
        risk_score(session, "HCF-1002", 0.12, NOW - timedelta(hours=3))   # low: no
        risk_score(session, "HCF-1003", 0.45, NOW - timedelta(hours=3))   # high but already late: no
        loan_3 = session.execute(select(Loan).where(Loan.reference == "HCF-1003")).scalar_one()
        session.add(LoanDayStatus(loan_id=loan_3.id, as_of=NOW.date(), arrears=Decimal("100.00"), days_past_due=4))
        risk_score(session, "HCF-1004", 0.45, NOW - timedelta(days=5))    # a stale score: not acted on
        plan_contacts(session, POLICY, NOW)
        plan_contacts(session, POLICY, NOW + timedelta(days=3))            # same period: nothing new
    checkins = [c for c in contacts(database) if c.reason == RISK_CHECKIN]
    assert [(c.loan_reference, c.subject, c.due_at) for c in checkins] == [
        ("HCF-1001", "loan:HCF-1001", datetime(2026, 11, 21, 2, 0))]  # 10:00 in Shanghai that day


def test_a_check_in_is_dropped_once_the_borrower_makes_a_promise(database):
    from bot.outreach.models import RISK_CHECKIN

    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001")
        risk_score(session, "HCF-1001", 0.45, NOW - timedelta(hours=3))
        plan_contacts(session, POLICY, NOW)
        promise(session, "HCF-1001", date(2026, 11, 30))
        plan_contacts(session, POLICY, NOW + timedelta(minutes=5))
    [checkin] = [c for c in contacts(database) if c.reason == RISK_CHECKIN]
    assert (checkin.status, checkin.outcome) == (DROPPED, NO_LONGER_DUE)
