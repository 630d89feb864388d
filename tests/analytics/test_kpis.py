"""Every KPI on the hand-built desk of `tests.analytics.dataset`, worked out by hand (real SQLite, two files)."""
from __future__ import annotations

from datetime import date

import pytest

from bot.analytics.queries import DayRange
from bot.analytics.service import Analytics
from bot.accounts.models import ContactOptOut
from tests.analytics.dataset import FIRST, LAST, at

WEEKS = DayRange(FIRST, LAST)


def records(report, key: str) -> list[dict]:
    return report.table(key).records()


@pytest.fixture
def weekly(shared_analytics):
    return shared_analytics.report(WEEKS, "week")


def test_conversations_started_count_only_conversations_whose_first_event_is_in_the_range(weekly):
    # W45: c1, c2, c3 (c5 started Oct 30, its Nov 2 message does not make it new); W46: c4 (c6 is Nov 16).
    assert records(weekly, "conversations") == [{"period": "2026-W45", "conversations": 3},
                                                {"period": "2026-W46", "conversations": 1}]


def test_verification_rate_is_verified_conversations_over_conversations_started(weekly):
    # W45: c1, c2 verified of 3 -> 2/3 = 0.6667; W46: c4 of 1 -> 1.0.
    assert records(weekly, "verification") == [
        {"period": "2026-W45", "conversations": 3, "verified": 2, "verification_rate": 0.6667},
        {"period": "2026-W46", "conversations": 1, "verified": 1, "verification_rate": 1.0}]


def test_containment_stands_beside_repeat_contact_within_seven_days(weekly):
    # W45: c1, c3 never escalated -> 2/3 = 0.6667; c1 came back Nov 5 (3 days) -> 1/3 = 0.3333;
    #      of the 2 contained, 1 came back -> 0.5.   W46: c4 escalated -> 0/1; nobody back -> 0/1; no contained -> None.
    assert records(weekly, "containment") == [
        {"period": "2026-W45", "conversations": 3, "contained": 2, "containment_rate": 0.6667, "returned": 1,
         "repeat_rate": 0.3333, "contained_repeat_rate": 0.5},
        {"period": "2026-W46", "conversations": 1, "contained": 0, "containment_rate": 0.0, "returned": 0,
         "repeat_rate": 0.0, "contained_repeat_rate": None}]


def test_handoff_rate_is_per_reason_over_the_conversations_started(weekly):
    # W45: c2 request_human, 1 of 3 -> 0.3333; W46: c4 hardship, 1 of 1 -> 1.0.
    assert records(weekly, "handoffs") == [
        {"period": "2026-W45", "reason": "request_human", "handed_off": 1, "conversations": 3, "handoff_rate": 0.3333},
        {"period": "2026-W46", "reason": "hardship", "handed_off": 1, "conversations": 1, "handoff_rate": 1.0}]


def test_promise_and_agreement_rates_are_over_verified_conversations(weekly):
    # Promise: W45 c1 of verified {c1, c2} -> 1/2 = 0.5; W46 c4 of {c4} -> 1.0.
    # Agreement: W45 c2 (AG-1) -> 1/2 = 0.5; W46 none -> 0.0 (AG-2 belongs to c9, not a conversation started here).
    assert records(weekly, "promise_to_pay") == [
        {"period": "2026-W45", "verified": 2, "promised": 1, "promise_rate": 0.5},
        {"period": "2026-W46", "verified": 1, "promised": 1, "promise_rate": 1.0}]
    assert records(weekly, "agreements") == [
        {"period": "2026-W45", "verified": 2, "agreed": 1, "agreement_rate": 0.5},
        {"period": "2026-W46", "verified": 1, "agreed": 0, "agreement_rate": 0.0}]


def test_kept_promise_rate_counts_promises_settled_in_the_period(weekly):
    # W45: kept Nov 4 -> 1 of 1 = 1.0.  W46: broken Nov 10, partly kept Nov 12 -> 0 of 2 = 0.0.
    # The open promise and the one settled Oct 20 are not counted.
    assert records(weekly, "kept_promises") == [
        {"period": "2026-W45", "settled": 1, "kept": 1, "partly_kept": 0, "broken": 0, "kept_rate": 1.0},
        {"period": "2026-W46", "settled": 2, "kept": 0, "partly_kept": 1, "broken": 1, "kept_rate": 0.0}]
    # By the promise's conversation: c1 (en, telegram) kept + partly kept -> 1/2; c4 (zh, telegram) broken -> 0/1.
    assert records(weekly, "kept_promises_by_language") == [
        {"language": "en", "settled": 2, "kept": 1, "partly_kept": 1, "broken": 0, "kept_rate": 0.5},
        {"language": "zh", "settled": 1, "kept": 0, "partly_kept": 0, "broken": 1, "kept_rate": 0.0}]
    assert records(weekly, "kept_promises_by_channel") == [
        {"channel": "telegram", "settled": 3, "kept": 1, "partly_kept": 1, "broken": 1, "kept_rate": 0.3333}]


def test_cure_and_roll_rates_compare_the_snapshot_before_a_period_with_its_last_day(weekly):
    # W45 compares Nov 1 with Nov 8: A 15->0 (cured), B 40->47 (stays 30-59), C 0->7 (rolls forward).
    #   delinquent at start {A, B} = 2, cured {A} = 1 -> 0.5;  worse bucket {C} = 1 of 3 -> 0.3333.
    # W46 compares Nov 8 with Nov 15: A 0->0, B 47->62 (rolls to 60-89), C 7->0 (cured).
    #   delinquent {B, C} = 2, cured {C} = 1 -> 0.5;  worse {B} = 1 of 3 -> 0.3333.
    assert records(weekly, "cure") == [
        {"period": "2026-W45", "delinquent": 2, "cured": 1, "cure_rate": 0.5},
        {"period": "2026-W46", "delinquent": 2, "cured": 1, "cure_rate": 0.5}]
    assert records(weekly, "roll_forward") == [
        {"period": "2026-W45", "loans": 3, "rolled_forward": 1, "roll_forward_rate": 0.3333},
        {"period": "2026-W46", "loans": 3, "rolled_forward": 1, "roll_forward_rate": 0.3333}]
    assert records(weekly, "roll") == [
        {"period": "2026-W45", "from_bucket": "current", "to_bucket": "1-29", "loans": 1, "roll_rate": 1.0},
        {"period": "2026-W45", "from_bucket": "1-29", "to_bucket": "current", "loans": 1, "roll_rate": 1.0},
        {"period": "2026-W45", "from_bucket": "30-59", "to_bucket": "30-59", "loans": 1, "roll_rate": 1.0},
        {"period": "2026-W46", "from_bucket": "current", "to_bucket": "current", "loans": 1, "roll_rate": 1.0},
        {"period": "2026-W46", "from_bucket": "1-29", "to_bucket": "current", "loans": 1, "roll_rate": 1.0},
        {"period": "2026-W46", "from_bucket": "30-59", "to_bucket": "60-89", "loans": 1, "roll_rate": 1.0}]


def test_concessions_are_those_of_signed_agreements_by_authority_rule_and_policy_version(weekly):
    # AG-1 on o1 (bot, R1): fees 12.50, interest 30.00; AG-2 on o2 (supervisor, R2): 0.00 and 100.05.
    # o3 was only shown (99.00 each), so it is not a concession granted.
    assert records(weekly, "concessions") == [
        {"authority": "bot", "rule": "R1", "policy_version": "2026.12-4", "agreements": 1,
         "waived_fees": "12.50", "waived_interest": "30.00"},
        {"authority": "supervisor", "rule": "R2", "policy_version": "2026.12-4", "agreements": 1,
         "waived_fees": "0.00", "waived_interest": "100.05"}]


def test_agent_times_are_means_over_escalations_of_the_period(weekly):
    # W45 (c2): reply 11:05 -> 11:07 = 120 s; handle claimed 11:06 -> closed 11:36 = 1800 s.
    # W46 (c4): reply 12:10 -> 12:20 = 600 s; still claimed, so no handle time.
    assert records(weekly, "agent_times") == [
        {"period": "2026-W45", "escalations": 1, "replied": 1, "mean_first_reply_seconds": 120.0, "handled": 1,
         "mean_handle_seconds": 1800.0},
        {"period": "2026-W46", "escalations": 1, "replied": 1, "mean_first_reply_seconds": 600.0, "handled": 0,
         "mean_handle_seconds": None}]
    # Both were Chinese: 2 escalations, (120 + 600) / 2 = 360 s, handle 1800 / 1.
    assert records(weekly, "agent_times_by_language") == [
        {"language": "zh", "escalations": 2, "replied": 2, "mean_first_reply_seconds": 360.0, "handled": 1,
         "mean_handle_seconds": 1800.0}]


def test_opt_outs_and_refusals_by_period_and_by_rule(weekly):
    # Opt-outs: Nov 3 -> W45 1; Nov 12 twice -> W46 2.  Attempts: W45 sent + refused -> 1/2; W46 refused + sent -> 1/2.
    assert records(weekly, "contact_policy") == [
        {"period": "2026-W45", "opt_outs": 1, "attempts": 2, "refused": 1, "refusal_rate": 0.5},
        {"period": "2026-W46", "opt_outs": 2, "attempts": 2, "refused": 1, "refusal_rate": 0.5}]
    assert records(weekly, "refusals_by_rule") == [
        {"channel": "telegram", "rule": "quiet_hours", "refused": 1},
        {"channel": "telegram", "rule": "weekly_cap", "refused": 1}]
    assert records(weekly, "opt_outs_by_channel") == [{"channel": "telegram", "opt_outs": 2},
                                                      {"channel": "unknown", "opt_outs": 1}]


def test_breakdowns_by_language_and_channel_cover_the_whole_range(weekly):
    # en: c1, c3; verified 1/2; contained 2/2; back 1/2; promise 1/1; agreement 0/1.
    # zh: c2, c4; verified 2/2; contained 0/2; back 0/2; promise c4 1/2; agreement c2 1/2.
    assert records(weekly, "by_language") == [
        {"language": "en", "conversations": 2, "verification_rate": 0.5, "containment_rate": 1.0,
         "repeat_rate": 0.5, "promise_rate": 1.0, "agreement_rate": 0.0},
        {"language": "zh", "conversations": 2, "verification_rate": 1.0, "containment_rate": 0.0,
         "repeat_rate": 0.0, "promise_rate": 0.5, "agreement_rate": 0.5}]
    # socketio: c2, c3; verified 1/2; contained c3 1/2; back 0; promise 0/1; agreement c2 1/1.
    # telegram: c1, c4; verified 2/2; contained c1 1/2; back c1 1/2; promise 2/2; agreement 0/2.
    assert records(weekly, "by_channel") == [
        {"channel": "socketio", "conversations": 2, "verification_rate": 0.5, "containment_rate": 0.5,
         "repeat_rate": 0.0, "promise_rate": 0.0, "agreement_rate": 1.0},
        {"channel": "telegram", "conversations": 2, "verification_rate": 1.0, "containment_rate": 0.5,
         "repeat_rate": 0.5, "promise_rate": 1.0, "agreement_rate": 0.0}]


def test_by_day_every_day_of_the_range_is_a_row_even_without_traffic(shared_analytics):
    daily = shared_analytics.report(DayRange(date(2026, 11, 2), date(2026, 11, 4)), "day")
    # Nov 2: c1, c2; Nov 3: c3; Nov 4: nothing.
    assert records(daily, "conversations") == [{"period": "2026-11-02", "conversations": 2},
                                               {"period": "2026-11-03", "conversations": 1},
                                               {"period": "2026-11-04", "conversations": 0}]
    # Cure by day compares the day before with the day: only Nov 1 and Nov 8 snapshots exist, so no pair here.
    assert [row["delinquent"] for row in records(daily, "cure")] == [0, 0, 0]


def test_a_report_is_cached_until_the_data_changes(analytics, desk):
    first = analytics.report(WEEKS, "week")
    assert analytics.report(WEEKS, "week") is first and analytics.computed == 1
    with desk.unit_of_work() as session:
        session.add(ContactOptOut(conversation_id="c3", channel="socketio", recorded_at=at(11, 4, 8)))
    again = analytics.report(WEEKS, "week")
    assert again is not first and analytics.computed == 2
    assert records(again, "contact_policy")[0]["opt_outs"] == 2  # 1 + the new one on Nov 4


def test_ranges_are_checked(shared_analytics):
    analytics = shared_analytics
    with pytest.raises(ValueError):
        DayRange(date(2026, 11, 5), date(2026, 11, 4))
    with pytest.raises(ValueError):
        analytics.report(DayRange(date(2025, 1, 1), date(2026, 11, 4)), "week")
    with pytest.raises(ValueError):
        analytics.report(WEEKS, "month")


def test_before_rasa_wrote_anything_the_report_is_empty_and_rasas_file_is_not_created(desk, tmp_path):
    missing = tmp_path / "no-tracker-yet.db"
    service = Analytics(desk.url, f"sqlite:///{missing}")
    try:
        report = service.report(WEEKS, "week")
    finally:
        service.dispose()
    assert records(report, "conversations") == [{"period": "2026-W45", "conversations": 0},
                                                {"period": "2026-W46", "conversations": 0}]
    # The application's own tables still count: opt-outs 1 and 2, as in the full desk.
    assert [row["opt_outs"] for row in records(report, "contact_policy")] == [1, 2]
    assert not missing.exists()
