"""The desk's opening hours as borrowers are told them, written from `policy.yml` `desk:`.

The hours a borrower hears and the hours the desk keeps (when the out-of-hours notice goes out, what the
console's SLA timers count) come from the same `DeskRules`, so they cannot disagree. `AGENT_HOURS` /
`AGENT_HOURS_ZH`, when set, replace the sentence (a lender with split shifts words them itself).
The text has no brackets of its own: the messages put it in brackets where they need them.
"""
from __future__ import annotations

from datetime import time

from bot.negotiation.policy import DeskRules

DAYS = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日")}
DAY_RANGE = {"en": "{first}-{last}", "zh": "{first}至{last}"}
DAY_LIST = {"en": ", ", "zh": "、"}
ZONE_NAMES = {"Asia/Shanghai": {"en": "China Standard Time", "zh": "北京时间"},
              "Asia/Hong_Kong": {"en": "Hong Kong Time", "zh": "香港时间"},
              "Asia/Singapore": {"en": "Singapore Time", "zh": "新加坡时间"},
              "UTC": {"en": "UTC", "zh": "UTC"}}
EVERY_DAY = {"en": "every day", "zh": "每天"}


def _days(open_days: tuple[int, ...], language: str) -> str:
    names = DAYS[language]
    days = sorted(set(open_days))
    if len(days) == 7:
        return EVERY_DAY[language]
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return DAY_RANGE[language].format(first=names[days[0]], last=names[days[-1]])
    return DAY_LIST[language].join(names[day] for day in days)


def desk_hours(desk: DeskRules, language: str) -> str:
    """'Mon-Fri 09:00-18:00 China Standard Time' / '周一至周五 09:00-18:00 北京时间'."""
    language = language if language in DAYS else "en"
    closes = "24:00" if desk.closes == time.max else desk.closes.strftime("%H:%M")
    zone = ZONE_NAMES.get(desk.time_zone, {}).get(language, desk.time_zone)
    return f"{_days(desk.open_days, language)} {desk.opens.strftime('%H:%M')}-{closes} {zone}"


def told_hours(desk: DeskRules, override_en: str, override_zh: str) -> dict[str, str]:
    """The `agent_hours` / `agent_hours_zh` values of the borrower's messages."""
    return {"agent_hours": override_en or desk_hours(desk, "en"),
            "agent_hours_zh": override_zh or desk_hours(desk, "zh")}
