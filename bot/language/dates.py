"""Dates in borrower text: a date of birth (for verification) and a future
date (for a promise to pay), in English and Chinese.

Numeric dates with slashes, dots or dashes and the year last are read
**day first** (12/04/1988 is 12 April 1988), as borrowers in China and the
UK write them; they are read month first only when day first is ruled out
and month first is not (04/30/1988). Year-first dates are always
year-month-day (1988-04-12, 1988/4/12, 1988年4月12日). Two-digit years are
put in the latest century that keeps the date in the past.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Iterator, Union

from bot.language.amounts import CN_DIGITS, chinese_numeral_value
from bot.language.references import prepare_without_refs

MAX_AGE_YEARS = 120
# A promise further out than this is not a promise the assistant can book.
MAX_PROMISE_DAYS = 2 * 366
# dateparser reads the whole message as one date expression, so a long message finds none; its
# tokeniser recurses once per token (RecursionError on "1 " * 1000, measured).
_DATEPARSER_MAX_CHARS = 100


@dataclass(frozen=True)
class DateParse:
    """The outcome of reading a date of birth.

    ``impossible`` is True when the text clearly holds a date that does not
    exist on the calendar (1990-02-30, 31/04/1990, 1990年2月30日), so the
    assistant can say so instead of asking again blindly.
    """

    value: date | None
    impossible: bool


_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7,
    "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH_NAME = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|"
    r"aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_ORD = r"(?:st|nd|rd|th)?"
_CN_SMALL = f"[{CN_DIGITS}十]"
_YEAR_CN = r"[〇零一二三四五六七八九]{2,4}"

_ISO = re.compile(r"(?<!\d)(?P<y>\d{4}) ?[-/.] ?(?P<m>\d{1,2}) ?[-/.] ?(?P<d>\d{1,2})(?!\d)")
_COMPACT = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})(?!\d)")
_DAY_FIRST = re.compile(
    r"(?<![\d.])(?P<a>\d{1,2}) ?[-/.] ?(?P<b>\d{1,2}) ?[-/.] ?(?P<y>\d{4}|\d{2})(?![\d])"
)
_CHINESE = re.compile(
    rf"(?P<y>\d{{4}}|\d{{2}}|{_YEAR_CN}) ?年 ?(?P<m>\d{{1,2}}|{_CN_SMALL}{{1,3}}) ?月 ?"
    rf"(?P<d>\d{{1,2}}|{_CN_SMALL}{{1,4}}) ?[日号號]?"
)
_DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(?P<d>\d{{1,2}}){_ORD}[\s\-/.,]*(?:of )?{_MONTH_NAME}[\s\-/.,]*(?P<y>\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_MONTH_DAY_YEAR = re.compile(
    rf"\b{_MONTH_NAME}[\s\-/.,]*(?:the )?(?P<d>\d{{1,2}}){_ORD}[\s\-/.,]*(?P<y>\d{{4}})(?!\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Candidate:
    start: int
    year: int
    month: int
    day: int


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return chinese_numeral_value(token)


def _chinese_year(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    digits = "".join(str("〇一二三四五六七八九".index("〇" if ch == "零" else ch)) for ch in token)
    return int(digits)


def _full_year(year: int, digits: int, today: date) -> int:
    if digits > 2:
        return year
    century = today.year // 100 * 100
    return century + year if century + year <= today.year else century - 100 + year


def _candidates(text: str, today: date) -> Iterator[_Candidate]:
    for m in _ISO.finditer(text):
        yield _Candidate(m.start(), int(m["y"]), int(m["m"]), int(m["d"]))
    for m in _COMPACT.finditer(text):
        yield _Candidate(m.start(), int(m["y"]), int(m["m"]), int(m["d"]))
    for m in _DAY_FIRST.finditer(text):
        day, month = int(m["a"]), int(m["b"])
        if month > 12 and day <= 12:
            day, month = month, day  # month-first is the only reading that can exist
        yield _Candidate(m.start(), _full_year(int(m["y"]), len(m["y"]), today), month, day)
    for m in _CHINESE.finditer(text):
        year, month, day = _chinese_year(m["y"]), _number(m["m"]), _number(m["d"])
        if year is None or month is None or day is None:
            continue
        yield _Candidate(m.start(), _full_year(year, len(m["y"]), today), month, day)
    for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR):
        for m in pattern.finditer(text):
            month = _MONTHS[m["mon"][:3].lower()]
            yield _Candidate(m.start(), int(m["y"]), month, int(m["d"]))


def _prepare(text: str) -> str:
    return prepare_without_refs(text)


def parse_date_of_birth(text: str, today: date) -> DateParse:
    """The date of birth written in ``text``.

    The first date that exists, is not in the future and gives an age of at
    most 120 wins. If the text holds only dates that do not exist,
    ``impossible`` is True. Future or implausibly old dates give
    ``DateParse(None, False)``, as does text with no date at all.
    """
    impossible = False
    for candidate in sorted(_candidates(_prepare(text), today), key=lambda c: c.start):
        try:
            value = date(candidate.year, candidate.month, candidate.day)
        except ValueError:
            impossible = True
            continue
        if value > today or today.year - value.year > MAX_AGE_YEARS:
            continue
        if today.year - value.year == MAX_AGE_YEARS and (value.month, value.day) < (today.month, today.day):
            continue
        return DateParse(value, False)
    return DateParse(None, impossible)


# --- future dates (promises to pay) --------------------------------------------

_WEEKDAYS_EN = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_SMALL_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple": 2, "a couple of": 2,
    "couple of": 2, "few": 3, "a few": 3,
}
_EN_COUNT = r"\d{1,3}|a couple of|couple of|a few|few|an?|one|two|three|four|five|six|seven|eight|nine|ten"

_EN_TODAY = re.compile(r"\b(?:today|tonight)\b", re.I)
_EN_DAY_AFTER = re.compile(r"\bday after tomorrow\b", re.I)
_EN_TOMORROW = re.compile(r"\b(?:tomorrow|tmr|tmrw|tomorow)\b", re.I)
_EN_IN = re.compile(
    rf"\b(?:in|within|after) (?:about )?(?P<n>{_EN_COUNT}) (?P<unit>days?|weeks?|months?)\b"
    rf"|\b(?P<n2>{_EN_COUNT}) (?P<unit2>days?|weeks?|months?) (?:from (?:now|today)|later|time)\b",
    re.I,
)
_EN_WEEKDAY = re.compile(
    r"\b(?P<rel>next|this|coming|on|by)? ?"
    r"(?P<wd>mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday|s|\.)?\b",
    re.I,
)
_EN_END_OF_MONTH = re.compile(r"\bend of (?P<which>this|the|next) month\b", re.I)
_EN_DAY_OF_MONTH = re.compile(r"(?<![\d.])(?:the )?(?P<d>\d{1,2})(?:st|nd|rd|th)\b", re.I)
_DAY_MONTH = re.compile(
    rf"(?<!\d)(?P<d>\d{{1,2}}){_ORD} ?(?:of )?{_MONTH_NAME}(?:,? ?(?P<y>\d{{4}}))?",
    re.I,
)
_MONTH_DAY = re.compile(
    rf"\b{_MONTH_NAME} ?(?:the )?(?P<d>\d{{1,2}}){_ORD}(?!\d)(?:,? ?(?P<y>\d{{4}}))?",
    re.I,
)
_SHORT_DAY_MONTH = re.compile(r"(?<![\d.,/])(?P<a>\d{1,2}) ?/ ?(?P<b>\d{1,2})(?![\d/])")

_ZH_RELATIVE_DAY = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "後天": 2, "大后天": 3}
_ZH_RELATIVE = re.compile("大后天|今天|今日|明天|明日|后天|後天")
_ZH_WEEKDAY = re.compile(
    r"(?P<rel>下下|下个?|这个?|本|这|)(?:周|週|星期|礼拜|禮拜)(?P<wd>[一二三四五六日天末])"
)
_ZH_AFTER = re.compile(
    rf"(?:过 ?)?(?P<n>(?<!\d)\d+|(?<!{_CN_SMALL}){_CN_SMALL}+|半) ?(?:个|個)? ?(?P<unit>天|日|周|週|星期|礼拜|月) ?(?:后|後|以后|之后|以內|内)?"
)
_ZH_END_OF_MONTH = re.compile(r"(?P<next>下个?月)? ?(?:月底|月末)")
_ZH_FULL = re.compile(
    rf"(?:(?P<y>\d{{4}}) ?年 ?)?(?P<next>下个?月)? ?(?:(?P<m>\d{{1,2}}|{_CN_SMALL}{{1,3}}) ?月(?:份)? ?)?"
    rf"(?P<d>\d{{1,2}}|{_CN_SMALL}{{1,3}}) ?[日号號]"
)


class _Unmatched(Enum):
    """No rule recognised the text (unlike None: recognised, but no valid date)."""

    UNMATCHED = "unmatched"


_UNMATCHED = _Unmatched.UNMATCHED
_RuleResult = Union[date, None, _Unmatched]


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, the day clamped to the month's end."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _count(word: str) -> int | None:
    key = re.sub(r"\s+", " ", word.strip().lower())
    if key.isdigit():
        return int(key)
    if key == "半":
        return None
    if key in _SMALL_WORDS:
        return _SMALL_WORDS[key]
    return chinese_numeral_value(key)


def _shift(today: date, n: int, unit: str) -> date:
    if unit.startswith(("day", "天", "日")):
        return today + timedelta(days=n)
    if unit.startswith(("week", "周", "週", "星期", "礼拜")):
        return today + timedelta(weeks=n)
    return add_months(today, n)


def _next_weekday(today: date, weekday: int) -> date:
    """The first such weekday strictly after today."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _weekday_in_week(today: date, weekday: int, weeks_ahead: int) -> date:
    """That weekday in the calendar week (Mon-Sun) ``weeks_ahead`` from this one."""
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(weeks=weeks_ahead, days=weekday)


def _next_day_of_month(today: date, day: int) -> date | None:
    """The first date on or after today whose day of the month is ``day``."""
    if not 1 <= day <= 31:
        return None
    for ahead in range(0, 13):
        first = add_months(today.replace(day=1), ahead)
        if day <= calendar.monthrange(first.year, first.month)[1]:
            candidate = first.replace(day=day)
            if candidate >= today:
                return candidate
    return None


def _month_day(today: date, month: int, day: int, year: int | None) -> date | None:
    """``month``/``day`` in ``year``, or else this year or next, whichever is not past."""
    years = [year] if year else [today.year, today.year + 1]
    for candidate_year in years:
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _end_of_month(today: date, months_ahead: int) -> date:
    first = add_months(today.replace(day=1), months_ahead)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _explicit_date(text: str, today: date) -> tuple[bool, date | None]:
    """(whether a full numeric date is written, that date if it exists)."""
    if m := _ISO.search(text):
        return True, _exact(int(m["y"]), int(m["m"]), int(m["d"]))
    if m := _DAY_FIRST.search(text):
        day, month = int(m["a"]), int(m["b"])
        if month > 12 and day <= 12:
            day, month = month, day
        year = int(m["y"]) + (today.year // 100 * 100 if len(m["y"]) == 2 else 0)
        return True, _exact(year, month, day)
    return False, None


def _exact(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _english_rules(text: str, today: date) -> _RuleResult:
    if _EN_DAY_AFTER.search(text):
        return today + timedelta(days=2)
    if _EN_TOMORROW.search(text):
        return today + timedelta(days=1)
    if _EN_TODAY.search(text):
        return today
    if m := _EN_IN.search(text):
        n = _count(m["n"] or m["n2"])
        if n is not None:
            return _shift(today, n, (m["unit"] or m["unit2"]).lower())
    if m := _EN_END_OF_MONTH.search(text):
        return _end_of_month(today, 1 if m["which"].lower() == "next" else 0)
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        if m := pattern.search(text):
            return _month_day(today, _MONTHS[m["mon"][:3].lower()], int(m["d"]),
                              int(m["y"]) if m["y"] else None)
    if m := _EN_WEEKDAY.search(text):
        weekday = _WEEKDAYS_EN[m["wd"][:3].lower()]
        if (m["rel"] or "").lower() == "next":
            return _weekday_in_week(today, weekday, 1)
        return _next_weekday(today, weekday)
    if m := _EN_DAY_OF_MONTH.search(text):
        return _next_day_of_month(today, int(m["d"]))
    if m := _SHORT_DAY_MONTH.search(text):
        day, month = int(m["a"]), int(m["b"])
        if month > 12 and day <= 12:
            day, month = month, day
        return _month_day(today, month, day, None)
    return _UNMATCHED


def _chinese_rules(text: str, today: date) -> _RuleResult:
    if m := _ZH_RELATIVE.search(text):
        return today + timedelta(days=_ZH_RELATIVE_DAY[m.group(0)])
    if m := _ZH_WEEKDAY.search(text):
        weekday = _WEEKDAYS_ZH[m["wd"]]
        rel = m["rel"]
        if rel.startswith("下下"):
            return _weekday_in_week(today, weekday, 2)
        if rel.startswith("下"):
            return _weekday_in_week(today, weekday, 1)
        if rel:  # 这周五 / 本周五: this calendar week's, if not already past
            candidate = _weekday_in_week(today, weekday, 0)
            return candidate if candidate >= today else None
        return _next_weekday(today, weekday)
    if m := _ZH_END_OF_MONTH.search(text):
        return _end_of_month(today, 1 if m["next"] else 0)
    if m := _ZH_FULL.search(text):
        day = _number(m["d"])
        if day is None:
            return None
        if m["m"]:
            month = _number(m["m"])
            if month is None:
                return None
            return _month_day(today, month, day, int(m["y"]) if m["y"] else None)
        if m["next"]:
            base = add_months(today.replace(day=1), 1)
            return _next_day_of_month(base, day)
        return _next_day_of_month(today, day)
    for m in _ZH_AFTER.finditer(text):
        tail = m.group(0)
        if not (tail.startswith("过") or re.search(r"(?:后|後|以后|之后)$", tail)):
            continue
        n = _count(m["n"])
        if n is not None:
            return _shift(today, n, m["unit"])
    return _UNMATCHED


def _dateparser_fallback(text: str, today: date) -> date | None:
    import dateparser  # deferred: loading its language data costs ~0.3 s

    parsed = dateparser.parse(
        text,
        languages=["en", "zh"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
            "DATE_ORDER": "DMY",
        },
    )
    return parsed.date() if parsed else None


def parse_future_date(text: str, today: date) -> date | None:
    """The date a borrower names for a payment: on or after ``today``, or None.

    Hand-written rules cover the common forms in both languages ("tomorrow",
    "in 2 weeks", "next Friday", "the 15th", "15 December", "2026-12-15",
    "明天", "后天", "下周五", "15号", "12月15日", "两周后", "月底"); dateparser
    is tried only when none applies. Weekdays: a bare or "this"/"on"
    weekday is the first one after today; "next Friday" and "下周五" are the
    Friday of next calendar week (Monday to Sunday); "这周五" already past is
    None. A day of the month is the next one on or after today. Dates more
    than two years ahead are None.
    """
    prepared = _prepare(text)
    explicit, found = _explicit_date(prepared, today)
    result: _RuleResult = found if explicit else _chinese_rules(prepared, today)
    if result is _UNMATCHED:
        result = _english_rules(prepared, today)
    if result is _UNMATCHED:
        # bare amounts ("500") make dateparser invent dates, so it only sees
        # texts without long numbers; and only short ones (see _DATEPARSER_MAX_CHARS)
        worth_trying = (
            len(prepared) <= _DATEPARSER_MAX_CHARS
            and re.search(r"\w", prepared)
            and not re.search(r"\d{3,}", prepared)
        )
        result = _dateparser_fallback(prepared.strip(), today) if worth_trying else None
    if not isinstance(result, date):
        return None
    if result < today or (result - today).days > MAX_PROMISE_DAYS:
        return None
    return result
