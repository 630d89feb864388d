"""Verification: the right pair verifies; anything else reveals nothing; limits stop guessing without
letting a stranger lock the borrower out; the server records who is verified."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from babel.dates import get_timezone
from sqlalchemy import select

from bot.config import ConfigError, load_settings
from bot.storage import Database
from bot.verification.models import VerificationAttempt, VerifiedSession
from bot.verification.service import Lock, LockoutRule, Outcome, verify_identity
from bot.verification.sessions import current_verification
from bot.verification.settings import lender_timezone, lockout_rule
from bot.verification.wording import pause_end_text

NOW = datetime(2026, 11, 28, 10, 0, 0)
RULE = LockoutRule(max_attempts=3, lock_minutes=30)


def attempt(db, ref, dob, now=NOW, conversation="c1"):
    with db.unit_of_work() as session:
        return verify_identity(session, loan_reference=ref, date_of_birth=dob, conversation_id=conversation,
                               channel="rest", now=now, rule=RULE)


def test_matching_reference_and_birth_date_verifies(demo_database):
    result = attempt(demo_database, "HCF-1001", date(1988, 4, 12))
    assert result.outcome is Outcome.VERIFIED
    assert result.loan_reference == "HCF-1001"


def test_unknown_reference_and_wrong_birth_date_look_the_same(demo_database):
    unknown = attempt(demo_database, "HCF-9999", date(1988, 4, 12))
    wrong = attempt(demo_database, "HCF-1001", date(1988, 4, 13))
    assert unknown.outcome is wrong.outcome is Outcome.MISMATCH
    assert unknown.loan_reference is None and wrong.loan_reference is None
    assert unknown.attempts_left == wrong.attempts_left == 2


def test_three_failures_lock_even_the_right_answer_for_thirty_minutes(demo_database):
    for minute in range(3):
        attempt(demo_database, "HCF-1001", date(1990, 1, 1), now=NOW + timedelta(minutes=minute))
    locked = attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=5))
    assert locked.outcome is Outcome.LOCKED
    assert locked.locked_until == NOW + timedelta(minutes=2 + 30)  # thirty minutes after the third failure
    assert attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=33)).outcome \
        is Outcome.VERIFIED


def test_lock_survives_a_restart_of_the_process(demo_database):
    for minute in range(3):
        attempt(demo_database, "HCF-2002", date(1990, 1, 1), now=NOW + timedelta(minutes=minute))
    fresh = Database(demo_database.url)  # a new engine, as after a restart
    try:
        assert attempt(fresh, "HCF-2002", date(1992, 11, 3), now=NOW + timedelta(minutes=10)).outcome \
            is Outcome.LOCKED
    finally:
        fresh.dispose()


def test_lock_applies_per_loan_not_to_other_loans(demo_database):
    for minute in range(3):
        attempt(demo_database, "HCF-1001", date(1990, 1, 1), now=NOW + timedelta(minutes=minute))
    assert attempt(demo_database, "HCF-2002", date(1992, 11, 3), now=NOW + timedelta(minutes=4)).outcome \
        is Outcome.VERIFIED


def test_success_resets_the_failure_count(demo_database):
    attempt(demo_database, "HCF-1001", date(1990, 1, 1), now=NOW)
    attempt(demo_database, "HCF-1001", date(1990, 1, 1), now=NOW + timedelta(minutes=1))
    attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=2))
    result = attempt(demo_database, "HCF-1001", date(1990, 1, 1), now=NOW + timedelta(minutes=3))
    assert result.outcome is Outcome.MISMATCH and result.attempts_left == 2


def test_sql_metacharacters_in_a_reference_are_just_a_non_matching_value(demo_database):
    result = attempt(demo_database, "HCF-1001' OR '1'='1", date(1988, 4, 12))
    assert result.outcome is Outcome.MISMATCH
    assert attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=1)).outcome \
        is Outcome.VERIFIED


# --- Spraying and lock-out abuse (issue 9, item 4) ----------------------------------------

WRONG = date(1990, 1, 1)


def test_one_conversation_trying_many_references_is_stopped_even_with_a_right_pair(demo_database):
    for minute, ref in enumerate(["HCF-1001", "HCF-2002", "HCF-3003", "HCF-4004", "HCF-5005"]):
        attempt(demo_database, ref, WRONG, now=NOW + timedelta(minutes=minute))
    stopped = attempt(demo_database, "HCF-2002", date(1992, 11, 3), now=NOW + timedelta(minutes=6))
    assert stopped.outcome is Outcome.LOCKED and stopped.lock is Lock.CONVERSATION
    assert stopped.locked_until == NOW + timedelta(minutes=4 + 30)  # thirty minutes after the fifth failure


def test_the_fifth_failure_in_a_conversation_itself_says_the_conversation_is_paused(demo_database):
    for minute, ref in enumerate(["HCF-1001", "HCF-2002", "HCF-3003", "HCF-4004"]):
        attempt(demo_database, ref, WRONG, now=NOW + timedelta(minutes=minute))
    fifth = attempt(demo_database, "HCF-9999", WRONG, now=NOW + timedelta(minutes=4))
    assert fifth.outcome is Outcome.LOCKED and fifth.lock is Lock.CONVERSATION


def test_other_conversations_are_not_stopped_by_one_conversations_spraying(demo_database):
    for minute, ref in enumerate(["HCF-1001", "HCF-2002", "HCF-3003", "HCF-4004", "HCF-5005"]):
        attempt(demo_database, ref, WRONG, now=NOW + timedelta(minutes=minute), conversation="sprayer")
    assert attempt(demo_database, "HCF-2002", date(1992, 11, 3), now=NOW + timedelta(minutes=6),
                   conversation="wang-fang").outcome is Outcome.VERIFIED


def test_a_paused_conversation_may_verify_once_the_pause_is_over(demo_database):
    for minute, ref in enumerate(["HCF-1001", "HCF-2002", "HCF-3003", "HCF-4004", "HCF-5005"]):
        attempt(demo_database, ref, WRONG, now=NOW + timedelta(minutes=minute))
    assert attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=33)).outcome \
        is Outcome.LOCKED
    assert attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=35)).outcome \
        is Outcome.VERIFIED


def test_attempts_left_count_the_conversations_failures_across_references(demo_database):
    for minute, ref in enumerate(["HCF-2002", "HCF-3003", "HCF-4004"]):
        attempt(demo_database, ref, WRONG, now=NOW + timedelta(minutes=minute))
    fourth = attempt(demo_database, "HCF-1001", WRONG, now=NOW + timedelta(minutes=3))
    assert fourth.outcome is Outcome.MISMATCH and fourth.attempts_left == 1  # 5 per conversation, 4 used


def test_a_strangers_failures_elsewhere_do_not_lock_the_borrower_with_the_right_birth_date(demo_database):
    for minute in range(3):
        attempt(demo_database, "HCF-1001", WRONG, now=NOW + timedelta(minutes=minute), conversation="stranger")
    assert attempt(demo_database, "HCF-1001", date(1990, 1, 2), now=NOW + timedelta(minutes=3),
                   conversation="stranger").outcome is Outcome.LOCKED
    mine = attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=4),
                   conversation="alex")
    assert mine.outcome is Outcome.VERIFIED


def spray_from_many_conversations(db, ref: str, failures: int, start: datetime) -> None:
    """A stranger spreading failures over fresh conversations, two each, a minute apart."""
    for n in range(failures):
        attempt(db, ref, WRONG, now=start + timedelta(minutes=n), conversation=f"stranger-{n // 2}")


def test_guessing_spread_over_many_conversations_stops_fresh_conversations_for_a_day(demo_database):
    spray_from_many_conversations(demo_database, "HCF-1001", 10, NOW)
    fresh = attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=20),
                    conversation="fresh")
    assert fresh.outcome is Outcome.LOCKED and fresh.lock is Lock.REFERENCE
    # Rolling: open again once fewer than ten failures remain in the last 24 hours.
    assert fresh.locked_until == NOW + timedelta(hours=24)
    assert attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(hours=24, minutes=1),
                   conversation="fresh").outcome is Outcome.VERIFIED


def test_a_conversation_that_verified_the_reference_before_is_not_locked_out_by_strangers(demo_database):
    assert attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW - timedelta(days=3),
                   conversation="telegram:alex").outcome is Outcome.VERIFIED
    spray_from_many_conversations(demo_database, "HCF-1001", 30, NOW)
    mine = attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=29, seconds=30),
                   conversation="telegram:alex")
    assert mine.outcome is Outcome.VERIFIED


def test_the_reference_limit_counts_unknown_references_too_so_a_lock_reveals_nothing(demo_database):
    spray_from_many_conversations(demo_database, "HCF-7777", 10, NOW)
    assert attempt(demo_database, "HCF-7777", date(1988, 4, 12), now=NOW + timedelta(minutes=20),
                   conversation="fresh").lock is Lock.REFERENCE


def test_every_attempt_is_recorded_with_its_reason_and_refused_ones_do_not_extend_the_lock(demo_database):
    attempt(demo_database, "HCF-9999", WRONG, now=NOW)
    attempt(demo_database, "HCF-1001", WRONG, now=NOW + timedelta(minutes=1))
    attempt(demo_database, "HCF-1001", WRONG, now=NOW + timedelta(minutes=2))
    third = attempt(demo_database, "HCF-1001", WRONG, now=NOW + timedelta(minutes=3))
    refused = [attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=m))
               for m in (10, 20, 30)]
    assert {r.locked_until for r in refused} == {third.locked_until} == {NOW + timedelta(minutes=33)}
    with demo_database.unit_of_work() as session:
        rows = session.execute(select(VerificationAttempt).order_by(VerificationAttempt.id)).scalars().all()
        logged = [(r.loan_reference, r.outcome, r.reason, r.succeeded) for r in rows]
    assert logged == [
        ("HCF-9999", "mismatch", "unknown_reference", False),
        ("HCF-1001", "mismatch", "wrong_date_of_birth", False),
        ("HCF-1001", "mismatch", "wrong_date_of_birth", False),
        ("HCF-1001", "mismatch", "wrong_date_of_birth", False),
    ] + [("HCF-1001", "locked", "conversation_reference_limit", False)] * 3
    assert attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=34)).outcome \
        is Outcome.VERIFIED


# --- The server's own record of verified conversations (issue 9, item 1) -------------------

IDLE = timedelta(minutes=30)


def current(db, conversation, now, renew=True):
    with db.unit_of_work() as session:
        return current_verification(session, conversation, now=now, idle=IDLE, renew=renew)


def test_a_successful_verification_is_recorded_for_that_conversation_only(demo_database):
    attempt(demo_database, "HCF-1001", date(1988, 4, 12), conversation="a")
    mine = current(demo_database, "a", NOW + timedelta(minutes=1))
    assert mine is not None and (mine.loan_reference, mine.verified_at) == ("HCF-1001", NOW)
    assert current(demo_database, "b", NOW + timedelta(minutes=1)) is None


def test_a_failed_verification_records_no_verified_conversation(demo_database):
    attempt(demo_database, "HCF-1001", WRONG, conversation="a")
    assert current(demo_database, "a", NOW) is None


def test_verification_lapses_after_the_idle_period_and_use_renews_it(demo_database):
    attempt(demo_database, "HCF-1001", date(1988, 4, 12), conversation="a")
    assert current(demo_database, "a", NOW + timedelta(minutes=29), renew=False) is not None
    assert current(demo_database, "a", NOW + timedelta(minutes=20)) is not None  # activity renews
    assert current(demo_database, "a", NOW + timedelta(minutes=49)) is not None
    assert current(demo_database, "a", NOW + timedelta(minutes=49 + 30)) is None
    # Once lapsed it stays lapsed: a later check cannot revive it.
    assert current(demo_database, "a", NOW + timedelta(minutes=50)) is None


def test_verifying_another_loan_replaces_the_conversations_verification(demo_database):
    attempt(demo_database, "HCF-1001", date(1988, 4, 12), conversation="a")
    attempt(demo_database, "HCF-2002", date(1992, 11, 3), now=NOW + timedelta(minutes=1), conversation="a")
    assert current(demo_database, "a", NOW + timedelta(minutes=2)).loan_reference == "HCF-2002"
    with demo_database.unit_of_work() as session:
        open_rows = session.execute(
            select(VerifiedSession).where(VerifiedSession.ended_at.is_(None))).scalars().all()
    assert [r.loan_reference for r in open_rows] == ["HCF-2002"]


# --- Telling the borrower when a pause ends -----------------------------------------------

def test_the_end_of_a_pause_is_said_in_the_lenders_clock_and_the_borrowers_language():
    shanghai = get_timezone("Asia/Shanghai")
    until = datetime(2026, 11, 28, 10, 34)  # stored as UTC
    assert pause_end_text(until, "en", shanghai) == "18:34 on 28 November 2026 (China Standard Time)"
    assert pause_end_text(until, "zh", shanghai) == "2026年11月28日 18:34（中国标准时间）"
    assert pause_end_text(datetime(2026, 11, 28, 20, 5), "zh", shanghai) == "2026年11月29日 04:05（中国标准时间）"


def test_limits_are_read_from_the_environment_and_a_bad_value_names_its_variable(monkeypatch):
    monkeypatch.setenv("VERIFICATION_CONVERSATION_MAX_FAILURES", "7")
    monkeypatch.setenv("VERIFICATION_REFERENCE_WINDOW_HOURS", "12")
    rule = lockout_rule(load_settings())
    assert (rule.conversation_max_failures, rule.reference_window_hours, rule.reference_max_failures) == (7, 12, 10)
    monkeypatch.setenv("VERIFICATION_REFERENCE_MAX_FAILURES", "0")
    with pytest.raises(ConfigError, match="VERIFICATION_REFERENCE_MAX_FAILURES"):
        lockout_rule(load_settings())
    monkeypatch.setenv("LENDER_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match="LENDER_TIMEZONE"):
        lender_timezone()
