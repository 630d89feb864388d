"""bot.handoff.waiting with a controlled clock: desk hours, the unclaimed timer, the borrower's answers.

The desk is in Asia/Shanghai (UTC+8 all year, no DST): 09:00-18:00 local is 01:00-10:00 UTC.
2026-12-02 is a Wednesday, 2026-12-05 a Saturday.
"""
from __future__ import annotations

from datetime import datetime, time

import pytest

from bot.handoff.waiting import (
    WaitChoice, needs_unclaimed_notice, place_in_queue, read_callback_time, read_satisfaction, read_wait_choice,
    satisfaction_open, waiting_state,
)
from bot.negotiation import load_policy
from bot.negotiation.policy import DeskRules
from tests.conftest import PROJECT_ROOT

DESK = DeskRules(time_zone="Asia/Shanghai", open_days=(0, 1, 2, 3, 4), opens=time(9), closes=time(18),
                 unclaimed_notice_minutes=5, first_reply_minutes={1: 5, 2: 15, 3: 60, 4: 240})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("moment, open_", [
    ("2026-12-02T01:00:00", True),    # Wed 09:00 local: opens
    ("2026-12-02T09:59:59", True),    # Wed 17:59:59
    ("2026-12-02T10:00:00", False),   # Wed 18:00: closed
    ("2026-12-02T00:59:00", False),   # Wed 08:59
    ("2026-12-05T03:00:00", False),   # Sat 11:00
    ("2026-12-06T18:00:00", False),   # Sun 18:00 UTC is Mon 02:00 local: a weekday, before opening
    ("2026-12-07T01:00:00", True),    # Mon 09:00 local
])
def test_the_desk_is_open_only_in_its_hours_in_its_own_zone(moment, open_):
    assert waiting_state(DESK, utc(moment), 7, [3, 7]).desk_open is open_


def test_the_place_in_the_queue_is_the_order_agents_take_them():
    assert place_in_queue(7, [3, 9, 7]) == 3
    assert place_in_queue(3, [3, 9, 7]) == 1
    assert place_in_queue(8, [3, 9, 7]) is None


@pytest.mark.parametrize("minutes, noticed, status, due", [
    (4, None, "waiting", False),
    (5, None, "waiting", True),
    (90, None, "waiting", True),
    (90, "2026-12-02T02:01:00", "waiting", False),   # told once, never again
    (90, None, "claimed", False),
    (90, None, "closed", False),
])
def test_an_unclaimed_escalation_gets_the_notice_once_after_the_configured_minutes(minutes, noticed, status, due):
    created = utc("2026-12-02T02:00:00")
    now = utc(f"2026-12-02T{2 + minutes // 60:02d}:{minutes % 60:02d}:00")
    assert needs_unclaimed_notice(DESK, status=status, created_at=created,
                                  wait_notice_at=utc(noticed) if noticed else None, now_utc=now) is due


def test_the_policy_file_gives_the_desk_its_notice_minutes():
    desk = load_policy(PROJECT_ROOT / "policy.yml").desk
    assert desk.unclaimed_notice_minutes >= 1 and desk.open_days


@pytest.mark.parametrize("text, choice", [
    ("Continue with the assistant", WaitChoice.CONTINUE), ("继续使用智能助理", WaitChoice.CONTINUE),
    ("Leave a callback time", WaitChoice.CALLBACK), ("留下回电时间", WaitChoice.CALLBACK),
    ("Keep waiting", WaitChoice.KEEP_WAITING), ("继续等待", WaitChoice.KEEP_WAITING),
    ("  KEEP WAITING ", WaitChoice.KEEP_WAITING), ("please call me back", WaitChoice.CALLBACK),
    ("I'll wait", WaitChoice.KEEP_WAITING),
    ("", None), ("my hours at work were cut", None), ("<script>alert(1)</script>", None),
    ("'; DROP TABLE escalations; --", None), ("😀" * 3000, None),
])
def test_the_waiting_choice_is_read_from_a_button_or_a_few_words(text, choice):
    assert read_wait_choice(text, "en") is choice


NOW = utc("2026-12-02T03:00:00")  # Wednesday 11:00 in Shanghai


@pytest.mark.parametrize("text, expected", [
    ("This afternoon", "2026-12-02T06:00:00"),        # 14:00 local
    ("Tomorrow morning", "2026-12-03T02:00:00"),      # Thu 10:00
    ("明天下午", "2026-12-03T06:00:00"),               # Thu 14:00
    ("15:30", "2026-12-02T07:30:00"),
    ("3pm", "2026-12-02T07:00:00"),
    ("tomorrow 10am", "2026-12-03T02:00:00"),
    ("9am", "2026-12-03T01:00:00"),                   # 09:00 today has passed: tomorrow
    ("明天下午3点", "2026-12-03T07:00:00"),
    ("下午三点半", "2026-12-02T07:30:00"),
])
def test_a_callback_time_is_read_in_the_desks_zone_and_kept_in_utc(text, expected):
    assert read_callback_time(text, DESK, NOW) == utc(expected)


def test_tomorrow_morning_on_a_friday_is_the_next_open_day():
    friday_noon = utc("2026-12-04T04:00:00")
    assert read_callback_time("Tomorrow morning", DESK, friday_noon) == utc("2026-12-07T02:00:00")  # Monday


@pytest.mark.parametrize("text", ["", "whenever", "2", "25:00", "<b>", "😀", "x" * 5000])
def test_no_callback_time_is_invented(text):
    assert read_callback_time(text, DESK, NOW) is None


@pytest.mark.parametrize("text, rating", [
    ("5 Very good", 5), ("1 Poor", 1), ("3", 3), (" 4 ", 4), ("五", 5), ("2分", 2), ("1 很差", 1),
    ("0", None), ("6", None), ("10", None), ("", None), ("good", None), ("/rate{\"satisfaction\": 5}", None),
])
def test_satisfaction_is_one_to_five_or_nothing(text, rating):
    assert read_satisfaction(text) == rating


def test_satisfaction_is_taken_once_and_only_soon_after_the_end():
    closed = utc("2026-12-02T03:00:00")
    assert satisfaction_open(status="closed", closed_at=closed, satisfaction=None, now_utc=utc("2026-12-02T03:05:00"))
    assert not satisfaction_open(status="closed", closed_at=closed, satisfaction=4, now_utc=utc("2026-12-02T03:05:00"))
    assert not satisfaction_open(status="closed", closed_at=closed, satisfaction=None,
                                 now_utc=utc("2026-12-04T03:05:00"))
    assert not satisfaction_open(status="waiting", closed_at=None, satisfaction=None, now_utc=closed)
