"""The contact policy: may the assistant write first to this borrower now, and if not, when or never.

Pure: the caller gathers the facts (`bot.outreach.facts.contact_facts`) and the clock; nothing here
reads the database or the time. Checks run from the most final to the most temporary:

1. drops (retry_at None), because waiting does not make the contact lawful or useful:
   `opted_out`, `not_own_chat`, `vulnerable` (a person decides), `dispute_open`, `handoff_open`,
   `hold:<kind>`. A hold or a handoff does end, but a reminder written for a date is stale by then
   and the planner plans afresh from the promise or plan when outreach resumes.
2. reschedules (retry_at = the earliest instant both the quiet hours and the caps allow):
   `quiet_hours:<jurisdiction>`, `cap:per_day`, `cap:per_7_days`.
3. `no_common_hours` (a drop): the time zone is unknown and no instant in the next 48 h is outside
   the quiet hours in every served zone.

Times: `now` and the attempts may be naive (read as UTC, as the database stores them) or aware;
`retry_at` comes back in the same form as `now`. A time zone name zoneinfo does not know counts as
unknown. Quiet hours are a property of the borrower's wall clock: an instant is quiet when its local
time of day lies in [quiet_from, quiet_until) (wrapping midnight when quiet_from > quiet_until), so a
local time skipped by a spring-forward is never reached and one repeated by a fall-back is judged
each time it occurs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.negotiation.policy import JurisdictionRules, OutreachRules

UTC = timezone.utc
COMMON_HOURS_HORIZON = timedelta(hours=48)
CAP_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class ContactFacts:
    """What the policy needs to know about a borrower at the moment of a send."""

    attempts: tuple[datetime, ...]  # UTC times of this borrower's proactive attempts on this channel, last 7 days
    opted_out: bool                 # an opt-out on this channel (or on every channel)
    handoff_open: bool              # an escalation not closed for any conversation of this loan
    dispute_or_complaint_open: bool  # ... whose reason is dispute_debt or complain
    vulnerable: bool                # an escalation for vulnerable/self_harm in the last 12 months
    hold: str | None                # "agent_pause" | "breathing_space" in force now, else None
    own_verified_chat: bool         # the target is this borrower's own chat: verified in, or bound by a deep link


@dataclass(frozen=True)
class Decision:
    """Send now, or the rule that refused and the next time it could be allowed (None: never)."""

    send: bool
    rule: str | None
    retry_at: datetime | None


SEND = Decision(True, None, None)


class NoCommonHours(ValueError):
    """Unknown time zone and no instant in the next 48 h is outside quiet hours in every served zone."""


@lru_cache(maxsize=None)
def zone_of(name: str | None) -> ZoneInfo | None:
    """The borrower's zone, or None when it is unknown (missing or not an IANA name)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def decide(*, now: datetime, time_zone: str | None, jurisdiction: str | None, facts: ContactFacts,
           rules: OutreachRules) -> Decision:
    """Whether a proactive message may go now; see the module docstring for the order of the rules."""
    for refused, rule in (
        (facts.opted_out, "opted_out"),
        (not facts.own_verified_chat, "not_own_chat"),
        (facts.vulnerable, "vulnerable"),
        (facts.dispute_or_complaint_open, "dispute_open"),
        (facts.handoff_open, "handoff_open"),
        (facts.hold is not None, f"hold:{facts.hold}"),
    ):
        if refused:
            return Decision(False, rule, None)

    code = _jurisdiction_code(jurisdiction, rules)
    quiet = rules.jurisdictions[code]
    zones = _judged_zones(time_zone, rules)
    cap_zone = zones[0]
    at = _utc(now)
    attempts = sorted(_utc(a) for a in facts.attempts)

    first_rule: str | None = None
    candidate = at
    for _ in range(64):  # each pass moves forward; caps free up within 7 days
        allowed = _next_outside(candidate, zones, quiet, candidate + COMMON_HOURS_HORIZON)
        if allowed is None:
            return Decision(False, "no_common_hours", None)
        if allowed != candidate and first_rule is None:
            first_rule = f"quiet_hours:{code}"
        cap_rule, freed = _cap_blocks(allowed, attempts, cap_zone, rules)
        if cap_rule is None:
            if allowed == at:
                return SEND
            return Decision(False, first_rule, _like(now, allowed))
        if first_rule is None:
            first_rule = cap_rule
        candidate = freed
    raise RuntimeError("contact policy: no allowed time found within 64 steps")  # unreachable with sane caps


def next_allowed(now: datetime, time_zone: str | None, jurisdiction: str | None, rules: OutreachRules) -> datetime:
    """Earliest instant >= now outside quiet hours (same naive/aware form as `now`).

    Unknown zone: outside quiet hours in every served zone; raises NoCommonHours when there is no such
    instant in the next 48 h.
    """
    quiet = rules.jurisdictions[_jurisdiction_code(jurisdiction, rules)]
    at = _utc(now)
    allowed = _next_outside(at, _judged_zones(time_zone, rules), quiet, at + COMMON_HOURS_HORIZON)
    if allowed is None:
        raise NoCommonHours(f"no instant outside quiet hours in every served zone within 48 h of {now.isoformat()}")
    return _like(now, allowed)


def is_quiet(local: time, quiet: JurisdictionRules) -> bool:
    """Whether a local time of day lies in the quiet window [quiet_from, quiet_until), wrapping midnight."""
    start, end = quiet.quiet_from, quiet.quiet_until
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


# -- internals -------------------------------------------------------------------------------------
def _jurisdiction_code(jurisdiction: str | None, rules: OutreachRules) -> str:
    return jurisdiction if jurisdiction in rules.jurisdictions else rules.default_jurisdiction


def _judged_zones(time_zone: str | None, rules: OutreachRules) -> tuple[ZoneInfo, ...]:
    """The zones whose wall clock decides: the borrower's, or every served one when it is unknown."""
    own = zone_of(time_zone)
    if own is not None:
        return (own,)
    return tuple(z for z in (zone_of(n) for n in rules.served_time_zones) if z is not None) or (ZoneInfo("UTC"),)


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive ones are read as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _like(template: datetime, moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if template.tzinfo is None else moment


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    """Local wall-clock time (naive) of a UTC instant."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _first_instant_at_or_after(wall: datetime, zone: ZoneInfo) -> datetime:
    """Earliest UTC instant whose local wall time is >= `wall`: the first occurrence of a repeated
    (fall-back) time, the transition itself for a skipped (spring-forward) one."""
    candidates = sorted({wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)})
    for instant in candidates:
        if _wall(instant, zone) == wall:
            return instant
    low, high = candidates[0], candidates[-1]  # a gap: the wall clock jumps past `wall` between these
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _wall(middle, zone) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0) if _wall(high.replace(microsecond=0), zone) >= wall else high


def _quiet_ends(moment: datetime, zone: ZoneInfo, quiet: JurisdictionRules) -> datetime | None:
    """When the quiet period `moment` is in ends (None: `moment` is not quiet)."""
    wall = _wall(moment, zone)
    if not is_quiet(wall.time(), quiet):
        return None
    day: date = wall.date()
    if quiet.quiet_from > quiet.quiet_until and wall.time() >= quiet.quiet_from:
        day += timedelta(days=1)
    end = _first_instant_at_or_after(datetime.combine(day, quiet.quiet_until), zone)
    return end if end > moment else moment + timedelta(minutes=1)


def _next_outside(start: datetime, zones: tuple[ZoneInfo, ...], quiet: JurisdictionRules,
                  horizon: datetime) -> datetime | None:
    """Earliest instant >= start that is outside quiet hours in every zone, or None past `horizon`."""
    moment = start
    while moment <= horizon:
        for zone in zones:
            end = _quiet_ends(moment, zone, quiet)
            if end is not None:
                moment = end
                break
        else:
            return moment
    return None


def _cap_blocks(moment: datetime, attempts: list[datetime], zone: ZoneInfo,
                rules: OutreachRules) -> tuple[str | None, datetime]:
    """The cap a send at `moment` would break and the earliest instant it frees, or (None, moment)."""
    day = _wall(moment, zone).date()
    same_day = [a for a in attempts if a <= moment and _wall(a, zone).date() == day]
    if len(same_day) >= rules.max_per_day:
        return "cap:per_day", _first_instant_at_or_after(datetime.combine(day + timedelta(days=1), time(0)), zone)
    # rolling window (moment - 7 days, moment]: an attempt leaves it exactly 7 days after it was made
    in_window = [a for a in attempts if moment - CAP_WINDOW < a <= moment]
    if len(in_window) >= rules.max_per_7_days:
        return "cap:per_7_days", in_window[len(in_window) - rules.max_per_7_days] + CAP_WINDOW
    return None, moment
