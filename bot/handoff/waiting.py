"""The borrower's side of waiting for a person: pure decisions over plain data and a clock.

What a borrower handed to a person is told (their place in the queue, or that the desk is
closed), when a waiting borrower nobody claimed is offered choices (policy.yml `desk:`), how
the borrower's choice, callback time and satisfaction answer are read. No database, no Rasa:
the actions and the web schedule call in with the escalation's fields and the time.
"""
from __future__ import annotations

import math
import re
import statistics
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from typing import Iterable
from zoneinfo import ZoneInfo

from bot.negotiation.policy import DeskRules

SATISFACTION_SCALE = (1, 2, 3, 4, 5)
# A satisfaction answer is taken for this long after the escalation ended; later, "3" is just a message.
SATISFACTION_WINDOW = timedelta(hours=24)


class WaitChoice(str, Enum):
    CONTINUE = "continue"        # go on with the assistant; the escalation stays in the queue, marked
    CALLBACK = "callback"        # leave a time to be called back
    KEEP_WAITING = "keep_waiting"


class CallbackSlot(str, Enum):
    THIS_AFTERNOON = "this_afternoon"
    TOMORROW_MORNING = "tomorrow_morning"
    TOMORROW_AFTERNOON = "tomorrow_afternoon"


# Button titles per language; a button sends its title, text the borrower could have typed.
CHOICE_TITLES: dict[str, dict[WaitChoice, str]] = {
    "en": {WaitChoice.CONTINUE: "Continue with the assistant", WaitChoice.CALLBACK: "Leave a callback time",
           WaitChoice.KEEP_WAITING: "Keep waiting"},
    "zh": {WaitChoice.CONTINUE: "继续使用智能助理", WaitChoice.CALLBACK: "留下回电时间",
           WaitChoice.KEEP_WAITING: "继续等待"},
}
CALLBACK_TITLES: dict[str, dict[CallbackSlot, str]] = {
    "en": {CallbackSlot.THIS_AFTERNOON: "This afternoon", CallbackSlot.TOMORROW_MORNING: "Tomorrow morning",
           CallbackSlot.TOMORROW_AFTERNOON: "Tomorrow afternoon"},
    "zh": {CallbackSlot.THIS_AFTERNOON: "今天下午", CallbackSlot.TOMORROW_MORNING: "明天上午",
           CallbackSlot.TOMORROW_AFTERNOON: "明天下午"},
}
SATISFACTION_TITLES = {"en": ("1 Poor", "2", "3", "4", "5 Very good"), "zh": ("1 很差", "2", "3", "4", "5 很好")}
MORNING, AFTERNOON = time(10, 0), time(14, 0)

# Typed answers that mean the same as a button (lower-cased, NFKC). Kept short and literal: a message that
# matches none of them is a message for the agent (the borrower keeps waiting and it reaches the queue).
# Latin phrases match whole words ("bot" is not in "about"); Chinese ones anywhere in the text.
_CHOICE_WORDS: dict[WaitChoice, tuple[str, ...]] = {
    WaitChoice.CONTINUE: ("assistant", "continue", "go on", "carry on", "bot", "chatbot", "助理", "助手", "机器人",
                          "继续使用", "继续聊", "先用"),
    WaitChoice.CALLBACK: ("callback", "call back", "call me", "ring me", "phone me", "回电", "回拨", "打电话",
                          "来电", "打给我"),
    WaitChoice.KEEP_WAITING: ("keep waiting", "continue waiting", "carry on waiting", "still wait", "wait", "waiting", "i'll wait",
                              "hold on", "等待", "等着", "我等", "等人工", "继续等", "再等"),
}
_ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "十一": 11, "十二": 12}
MAX_READ_CHARS = 200  # answers here are short; a long message is something else, never parsed

# The expected wait is measured, not promised: the median time-to-claim of escalations of the same
# priority opened while the desk was open in the last CLAIM_HISTORY days. Fewer than
# MIN_CLAIMS_FOR_ESTIMATE such claims is too little data: the borrower then hears their place only.
CLAIM_HISTORY = timedelta(days=14)
MIN_CLAIMS_FOR_ESTIMATE = 5
# An agent counts as working the desk when they hold an escalation or claimed one this recently.
AGENT_ACTIVE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class WaitingState:
    """What the borrower is told when handed to a person."""

    desk_open: bool
    place: int | None  # 1 = next; None when the escalation is not in the waiting list


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().lower()[:MAX_READ_CHARS]


def _local(desk: DeskRules, moment_utc: datetime) -> datetime:
    if moment_utc.tzinfo is None:
        moment_utc = moment_utc.replace(tzinfo=timezone.utc)
    return moment_utc.astimezone(ZoneInfo(desk.time_zone))


def _utc_naive(local: datetime) -> datetime:
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def place_in_queue(escalation_id: int, waiting_ids: list[int]) -> int | None:
    """The escalation's place among the waiting ones (given in the order agents take them), 1 first."""
    try:
        return waiting_ids.index(escalation_id) + 1
    except ValueError:
        return None


def waiting_state(desk: DeskRules, now_utc: datetime, escalation_id: int, waiting_ids: list[int]) -> WaitingState:
    return WaitingState(desk_open=desk.is_open(now_utc), place=place_in_queue(escalation_id, waiting_ids))


def claim_minutes(desk: DeskRules, claims: Iterable[tuple[datetime, datetime]]) -> list[float]:
    """Minutes from opening to claim of (created_at, claimed_at) pairs, keeping only escalations opened
    while the desk was open: a request made at night and claimed next morning says nothing of the
    wait during opening hours."""
    return [(claimed - created).total_seconds() / 60 for created, claimed in claims
            if claimed >= created and desk.is_open(created)]


def expected_wait_minutes(claim_minutes_seen: list[float], place: int, agents_working: int) -> int | None:
    """Whole minutes a borrower at `place` (1 = next) can expect to wait; None when there is too little data.

    Each agent working takes about one escalation per median time-to-claim, so the borrower is
    reached after ceil(place / agents) such rounds. With no agent working now, one is assumed
    (the desk is open: someone is expected).
    """
    if place < 1 or len(claim_minutes_seen) < MIN_CLAIMS_FOR_ESTIMATE:
        return None
    rounds = math.ceil(place / max(agents_working, 1))
    return max(1, math.ceil(statistics.median(claim_minutes_seen) * rounds))


def rounded_wait(minutes: int) -> int | None:
    """What the borrower is told: the minute up to 10, the nearest 5 up to an hour; None above an hour
    ("more than an hour"): a figure that precise would be a promise the data cannot keep."""
    if minutes <= 10:
        return minutes
    if minutes <= 60:
        return min(60, 5 * round(minutes / 5))
    return None


def needs_unclaimed_notice(desk: DeskRules, *, status: str, created_at: datetime, wait_notice_at: datetime | None,
                           now_utc: datetime) -> bool:
    """Whether a waiting borrower nobody claimed should now be told and offered choices (once)."""
    if status != "waiting" or wait_notice_at is not None:
        return False
    return now_utc - created_at >= timedelta(minutes=desk.unclaimed_notice_minutes)


def read_wait_choice(text: str, lang: str) -> WaitChoice | None:
    """The borrower's choice after the notice: a button's title, or a few words meaning the same."""
    said = _normal(text)
    if not said:
        return None
    for titles in CHOICE_TITLES.values():
        for choice, title in titles.items():
            if said == _normal(title):
                return choice
    for phrase, choice in _CHOICE_PHRASES:
        if phrase.search(said):
            return choice
    return None


def _phrase(word: str) -> re.Pattern[str]:
    return re.compile(re.escape(word) if not word.isascii() else r"(?<![a-z])" + re.escape(word) + r"(?![a-z])")


# Longest phrases first: "continue waiting" must not read as "continue".
_CHOICE_PHRASES = tuple((_phrase(word), choice) for word, choice in sorted(
    ((word, choice) for choice, words in _CHOICE_WORDS.items() for word in words), key=lambda pair: -len(pair[0])))


def _next_open_day(desk: DeskRules, day: date) -> date:
    for offset in range(8):
        candidate = day + timedelta(days=offset)
        if candidate.weekday() in desk.open_days:
            return candidate
    return day  # open_days is never empty (policy.yml validation); kept total anyway


def callback_for_slot(desk: DeskRules, slot: CallbackSlot, now_utc: datetime) -> datetime:
    """A button's callback time in UTC: 14:00 today, or 10:00 / 14:00 on the desk's next open day."""
    local = _local(desk, now_utc)
    if slot is CallbackSlot.THIS_AFTERNOON:
        at = datetime.combine(local.date(), AFTERNOON, tzinfo=local.tzinfo)
        return _utc_naive(max(at, local.replace(second=0, microsecond=0)))
    day = _next_open_day(desk, local.date() + timedelta(days=1))
    clock = MORNING if slot is CallbackSlot.TOMORROW_MORNING else AFTERNOON
    return _utc_naive(datetime.combine(day, clock, tzinfo=local.tzinfo))


_CLOCK_EN = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b")
_CLOCK_ZH = re.compile(r"(上午|早上|下午|晚上)?\s*(\d{1,2}|十[一二]?|[一二两三四五六七八九])\s*[点點时](半|(\d{1,2})分?)?")


def _clock_in(said: str) -> time | None:
    zh = _CLOCK_ZH.search(said)
    if zh:
        hour = int(zh.group(2)) if zh.group(2).isdigit() else _ZH_DIGITS[zh.group(2)]
        minute = 30 if zh.group(3) == "半" else int(zh.group(4) or 0)
        if zh.group(1) in ("下午", "晚上") and hour < 12:
            hour += 12
    else:
        en = _CLOCK_EN.search(said)
        if en is None or (en.group(2) is None and en.group(3) is None):
            return None  # a bare number is no time ("2" could be anything)
        hour, minute = int(en.group(1)), int(en.group(2) or 0)
        if en.group(3) == "pm" and hour < 12:
            hour += 12
        elif en.group(3) == "am" and hour == 12:
            hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def read_callback_time(text: str, desk: DeskRules, now_utc: datetime) -> datetime | None:
    """A callback time (UTC) from a button's title or a simple typed time in the desk's zone.

    "This afternoon" / "明天上午"; "15:30", "3pm", "tomorrow 10am", "明天下午3点", "下午三点半". A
    time already past today means tomorrow. None when no time can be read.
    """
    said = _normal(text)
    if not said:
        return None
    for titles in CALLBACK_TITLES.values():
        for slot, title in titles.items():
            if said == _normal(title):
                return callback_for_slot(desk, slot, now_utc)
    clock = _clock_in(said)
    tomorrow = "tomorrow" in said or "明天" in said
    if clock is None:
        for word, slot in (("morning", CallbackSlot.TOMORROW_MORNING), ("上午", CallbackSlot.TOMORROW_MORNING),
                           ("afternoon", CallbackSlot.TOMORROW_AFTERNOON), ("下午", CallbackSlot.TOMORROW_AFTERNOON)):
            if word in said:
                if not tomorrow and slot is CallbackSlot.TOMORROW_AFTERNOON:
                    return callback_for_slot(desk, CallbackSlot.THIS_AFTERNOON, now_utc)
                return callback_for_slot(desk, slot, now_utc)
        return None
    local = _local(desk, now_utc)
    day = local.date() + timedelta(days=1 if tomorrow else 0)
    at = datetime.combine(day, clock, tzinfo=local.tzinfo)
    if at <= local:
        at += timedelta(days=1)
    return _utc_naive(at)


def read_satisfaction(text: str) -> int | None:
    """A 1-5 rating: a button's title ("5 Very good"), a digit, or 一..五; anything else is None."""
    said = _normal(text)
    match = re.fullmatch(r"([1-5])(\s.*|分|星)?|([一二三四五])(分|星)?", said)
    if match is None:
        return None
    return int(match.group(1)) if match.group(1) else _ZH_DIGITS[match.group(3)]


def satisfaction_open(*, status: str, closed_at: datetime | None, satisfaction: int | None,
                      now_utc: datetime) -> bool:
    """Whether the escalation may still take a satisfaction answer (closed recently, not rated yet)."""
    return (status == "closed" and closed_at is not None and satisfaction is None
            and timedelta(0) <= now_utc - closed_at <= SATISFACTION_WINDOW)
