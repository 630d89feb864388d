"""Why a conversation goes to a person, and how urgently: pure functions over intent names.

Priority 1 is urgent (a life may be at risk), 4 routine. The queue orders by
priority first, then by age.
"""
from __future__ import annotations

from dataclasses import dataclass

URGENT, HIGH, NORMAL, ROUTINE = 1, 2, 3, 4


@dataclass(frozen=True)
class Trigger:
    reason: str
    priority: int


# intent (or a reason an action set) -> priority
_PRIORITIES: dict[str, int] = {
    "self_harm": URGENT,
    "vulnerable": HIGH,
    "dispute_debt": HIGH,
    "legal_threat": HIGH,
    "request_human": NORMAL,
    "complain": NORMAL,
    "third_party": NORMAL,
    "legal_representation": NORMAL,
    "abuse": NORMAL,
    "repeated_misunderstanding": NORMAL,
    "needs_approval": NORMAL,
    "stalling": NORMAL,
    "broken_promises": NORMAL,
    "plan_broken": NORMAL,
    "verification_locked": ROUTINE,
}

REASONS = tuple(_PRIORITIES)


def trigger_for(intent: str | None, reason_override: str | None = None) -> Trigger:
    """The escalation reason and priority for the borrower's latest intent.

    An action may have set an explicit reason (e.g. the negotiation's
    "needs_approval"); it wins unless the intent itself is more urgent.
    """
    candidates = [r for r in (reason_override, intent) if r in _PRIORITIES]
    if not candidates:
        return Trigger(reason_override or "request_human", NORMAL)
    reason = min(candidates, key=lambda r: _PRIORITIES[r])
    return Trigger(reason, _PRIORITIES[reason])


def more_urgent(a: int, b: int) -> int:
    """The more urgent of two priorities."""
    return min(a, b)
