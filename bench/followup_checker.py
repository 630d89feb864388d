"""Independent checker of proactive contacts: replays a send log and lists every broken contact rule.

Written apart from `bot.outreach.rules` on purpose (it imports nothing from `bot`): it reads the
`outreach` section of policy.yml itself and checks each attempt the plain way: the attempt's local
hour and minute compared with the quiet window as minutes since midnight; caps by sorting each
borrower's attempts per channel, counting per local calendar date and sliding a 7×24 h window over
them. Every attempt that reached the borrower's channel (outcome sent or failed) is checked; the
facts logged with it (opt-out, handoff, dispute, vulnerability, hold, own chat) must all be clear.
"""
from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

WEEK_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class LoggedAttempt:
    """One row of the send log: a contact_attempts row (sent or failed) and the facts true at that time."""

    borrower: str
    channel: str
    attempted_at: datetime          # UTC, naive or aware
    time_zone: str | None
    jurisdiction: str | None
    opted_out: bool = False
    handoff_open: bool = False
    dispute_open: bool = False
    vulnerable: bool = False
    hold: str | None = None
    own_chat: bool = True


@dataclass(frozen=True)
class Violation:
    kind: str       # quiet_hours | cap_per_day | cap_per_7_days | opted_out | ...
    borrower: str
    at: datetime
    detail: str


@dataclass(frozen=True)
class Limits:
    """The contact limits as the checker reads them from policy.yml."""

    quiet_minutes: dict[str, tuple[int, int]]   # jurisdiction -> (from, until) minutes after midnight
    default_jurisdiction: str
    served_zones: tuple[str, ...]
    per_day: int
    per_week: int

    @classmethod
    def from_policy(cls, path: str | Path, served_zones: tuple[str, ...] | None = None) -> "Limits":
        section = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["outreach"]

        def minutes(text: str) -> int:
            hours, mins = str(text).split(":")
            return int(hours) * 60 + int(mins)

        return cls(
            quiet_minutes={str(code): (minutes(v["quiet_from"]), minutes(v["quiet_until"]))
                           for code, v in section["jurisdictions"].items()},
            default_jurisdiction=str(section["default_jurisdiction"]),
            served_zones=tuple(served_zones or section["served_time_zones"]),
            per_day=int(section["max_per_day"]),
            per_week=int(section["max_per_7_days"]),
        )


@dataclass
class Report:
    checked: int = 0
    violations: list[Violation] = field(default_factory=list)

    def counts(self) -> Counter:
        return Counter(v.kind for v in self.violations)


def check(log: list[LoggedAttempt], limits: Limits) -> Report:
    """Every rule each attempt in the log broke."""
    report = Report(checked=len(log))
    by_borrower: dict[tuple[str, str], list[LoggedAttempt]] = defaultdict(list)
    for attempt in log:
        report.violations.extend(_state_violations(attempt))
        report.violations.extend(_quiet_violations(attempt, limits))
        by_borrower[(attempt.borrower, attempt.channel)].append(attempt)
    for attempts in by_borrower.values():
        report.violations.extend(_cap_violations(attempts, limits))
    return report


def _state_violations(attempt: LoggedAttempt) -> list[Violation]:
    found = []
    for broken, kind in ((attempt.opted_out, "opted_out"), (attempt.handoff_open, "handoff_open"),
                         (attempt.dispute_open, "dispute_open"), (attempt.vulnerable, "vulnerable"),
                         (attempt.hold is not None, f"hold:{attempt.hold}"), (not attempt.own_chat, "not_own_chat")):
        if broken:
            found.append(Violation(kind, attempt.borrower, attempt.attempted_at, "sent while this was in force"))
    return found


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _known_zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except Exception:  # an unknown name: the borrower's zone is unknown
        return None


def _quiet_violations(attempt: LoggedAttempt, limits: Limits) -> list[Violation]:
    code = attempt.jurisdiction if attempt.jurisdiction in limits.quiet_minutes else limits.default_jurisdiction
    start, end = limits.quiet_minutes[code]
    own = _known_zone(attempt.time_zone)
    zones = [own] if own else [ZoneInfo(name) for name in limits.served_zones]
    found = []
    for zone in zones:
        wall = _as_utc(attempt.attempted_at).astimezone(zone)
        minute = wall.hour * 60 + wall.minute
        if start < end:
            quiet = start <= minute < end
        elif start > end:
            quiet = minute >= start or minute < end
        else:
            quiet = False
        if quiet:
            found.append(Violation("quiet_hours", attempt.borrower, attempt.attempted_at,
                                   f"{wall:%Y-%m-%d %H:%M} in {zone.key} is quiet under {code}"))
    return found


def _cap_violations(attempts: list[LoggedAttempt], limits: Limits) -> list[Violation]:
    ordered = sorted(attempts, key=lambda a: _as_utc(a.attempted_at))
    first = ordered[0]
    zone = _known_zone(first.time_zone) or ZoneInfo(limits.served_zones[0])
    found = []
    per_date = Counter(_as_utc(a.attempted_at).astimezone(zone).date() for a in ordered)
    for day, count in per_date.items():
        if count > limits.per_day:
            found.append(Violation("cap_per_day", first.borrower, datetime.combine(day, datetime.min.time()),
                                   f"{count} attempts on {day} ({zone.key}); at most {limits.per_day}"))
    seconds = [_as_utc(a.attempted_at).timestamp() for a in ordered]
    for index, moment in enumerate(seconds):
        # attempts in the 7-day window ending at this one: (moment - 7 days, moment]
        inside = index + 1 - bisect.bisect_right(seconds, moment - WEEK_SECONDS, 0, index + 1)
        if inside > limits.per_week:
            found.append(Violation("cap_per_7_days", first.borrower, ordered[index].attempted_at,
                                   f"{inside} attempts in the 7 days up to this one; at most {limits.per_week}"))
    return found


def render(report: Report) -> str:
    lines = [f"checked {report.checked} attempts: {len(report.violations)} violations"]
    for kind, count in sorted(report.counts().items()):
        lines.append(f"  {kind}: {count}")
    for violation in report.violations[:10]:
        lines.append(f"  e.g. {violation.kind} {violation.borrower} at {violation.at:%Y-%m-%d %H:%M} UTC: "
                     f"{violation.detail}")
    return "\n".join(lines)

