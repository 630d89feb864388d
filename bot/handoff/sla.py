"""The desk's first-reply target (SLA) for one escalation: due when, met when, breached or not.

Pure: the targets come from `policy.yml` (`desk.first_reply_minutes`, by priority) and the clock is
passed in. The clock starts when the escalation was opened, or when it was last reopened; it stops
at the first agent reply recorded since then.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# A priority the policy does not name waits as long as the most relaxed one it does name.
DEFAULT_TARGET_MINUTES = 240


@dataclass(frozen=True)
class FirstReplySla:
    target_minutes: int
    due_at: datetime
    remaining_seconds: int      # negative once breached (frozen at the reply when met)
    breached: bool
    met_at: datetime | None     # the first agent reply


def target_minutes(priority: int, targets: dict[int, int]) -> int:
    if priority in targets:
        return targets[priority]
    return max(targets.values()) if targets else DEFAULT_TARGET_MINUTES


def first_reply_sla(*, priority: int, opened_at: datetime, reopened_at: datetime | None,
                    first_reply_at: datetime | None, targets: dict[int, int], now: datetime) -> FirstReplySla:
    """Where the escalation stands against its first-reply target at `now` (naive UTC throughout)."""
    minutes = target_minutes(priority, targets)
    started = reopened_at if reopened_at and reopened_at > opened_at else opened_at
    due = started + timedelta(minutes=minutes)
    met = first_reply_at if first_reply_at and first_reply_at >= started else None
    until = met or now
    remaining = int((due - until).total_seconds())
    return FirstReplySla(target_minutes=minutes, due_at=due, remaining_seconds=remaining,
                         breached=remaining < 0, met_at=met)
