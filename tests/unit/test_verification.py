"""Verification: the right pair verifies; anything else reveals nothing; three misses lock for 30 minutes."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.storage import Database
from bot.verification.service import LockoutRule, Outcome, verify_identity

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
    assert locked.locked_until == NOW + timedelta(minutes=30)
    assert attempt(demo_database, "HCF-1001", date(1988, 4, 12), now=NOW + timedelta(minutes=31)).outcome \
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
