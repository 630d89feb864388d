"""When a verification pause ends, written the way the borrower reads a time."""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from babel.dates import format_datetime, get_timezone_name

from bot.language.formatting import format_date

_LOCALES = {"en": "en_GB", "zh": "zh_Hans_CN"}


def pause_end_text(until: datetime, lang: str, zone: tzinfo) -> str:
    """`until` (naive UTC, as stored) as "18:30 on 28 November 2026 (China Standard Time)"
    or "2026年11月28日 18:30（中国标准时间）"."""
    local = until.replace(tzinfo=timezone.utc).astimezone(zone)
    locale = _LOCALES["zh" if lang == "zh" else "en"]
    clock = format_datetime(local, "HH:mm", tzinfo=zone, locale=locale)
    zone_name = get_timezone_name(local, "long", locale=locale)
    if lang == "zh":
        return f"{format_date(local.date(), 'zh')} {clock}（{zone_name}）"
    return f"{clock} on {format_date(local.date(), 'en')} ({zone_name})"
