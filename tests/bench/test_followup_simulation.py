"""The follow-up simulation and its independent checker: a small run breaks no rule, and the checker
catches a policy that ignores quiet hours, caps or stops."""
from __future__ import annotations

import dataclasses
from datetime import datetime, time

from bench.followup_checker import Limits, LoggedAttempt, check
from bench.simulate_followup import report, simulate
from bot.negotiation.policy import JurisdictionRules
from bot.outreach.rules import Decision, decide
from tests.conftest import PROJECT_ROOT

LIMITS = Limits.from_policy(PROJECT_ROOT / "policy.yml", served_zones=("Asia/Shanghai", "Europe/London"))


def test_a_small_run_sends_nothing_outside_the_rules_and_reminds_every_allowed_promise():
    results = simulate(borrowers=300, days=30, seed=7)
    assert results.violations == 0, results.checker_text
    assert results.sent > 100 and results.reschedules > 0
    assert results.due_promises > 0
    # every due promise without a reminder names the rule that forbade it (or a failed delivery)
    assert results.due_promises - results.reminded_promises == sum(results.not_reminded.values())
    assert all(reason for reason in results.not_reminded)
    assert "violations (independent checker): 0" in report(results)


def ignoring_quiet_hours(*, rules, **kwargs) -> Decision:
    awake = JurisdictionRules(time(0), time(0), 0)  # an empty window: never quiet
    return decide(rules=dataclasses.replace(rules, jurisdictions={c: awake for c in rules.jurisdictions}), **kwargs)


def test_the_checker_catches_a_policy_that_ignores_quiet_hours():
    results = simulate(borrowers=300, days=30, seed=7, decide_fn=ignoring_quiet_hours)
    assert results.violation_counts["quiet_hours"] > 0
    assert set(results.violation_counts) == {"quiet_hours"}


def test_the_checker_catches_a_policy_that_always_sends():
    results = simulate(borrowers=300, days=30, seed=7, decide_fn=lambda **_: Decision(True, None, None))
    assert results.violation_counts["quiet_hours"] > 0
    assert results.violation_counts["opted_out"] > 0
    assert results.violation_counts["cap_per_day"] + results.violation_counts["cap_per_7_days"] > 0


def attempt(at: datetime, zone: str | None = "Asia/Shanghai", jurisdiction: str = "CN", **facts) -> LoggedAttempt:
    return LoggedAttempt(borrower="B1", channel="telegram", attempted_at=at, time_zone=zone,
                         jurisdiction=jurisdiction, **facts)


def test_checker_quiet_hours_in_local_time_and_for_unknown_zones():
    assert check([attempt(datetime(2026, 5, 4, 2, 0))], LIMITS).violations == []       # 10:00 Shanghai
    assert [v.kind for v in check([attempt(datetime(2026, 5, 4, 14, 30))], LIMITS).violations] == ["quiet_hours"]
    # unknown zone at 10:00 UTC: 18:00 Shanghai, 11:00 London: fine; at 05:00 UTC London is 06:00: quiet
    assert check([attempt(datetime(2026, 5, 4, 10, 0), zone=None)], LIMITS).violations == []
    assert check([attempt(datetime(2026, 5, 4, 5, 0), zone=None)], LIMITS).counts()["quiet_hours"] == 1


def test_checker_caps_per_local_day_and_rolling_week():
    same_day = [attempt(datetime(2026, 5, 4, 1, 0)), attempt(datetime(2026, 5, 4, 9, 0))]
    assert check(same_day, LIMITS).counts()["cap_per_day"] == 1
    week = [attempt(datetime(2026, 5, d, 2, 0)) for d in (1, 3, 5, 7)]
    assert check(week, LIMITS).counts()["cap_per_7_days"] == 1
    spaced = [attempt(datetime(2026, 5, d, 2, 0)) for d in (1, 3, 5, 8)]  # the 1st has left the window on the 8th
    assert check(spaced, LIMITS).violations == []


def test_checker_flags_sends_under_a_stop_rule():
    found = check([attempt(datetime(2026, 5, 4, 2, 0), opted_out=True, hold="breathing_space", own_chat=False)],
                  LIMITS).counts()
    assert found == {"opted_out": 1, "hold:breathing_space": 1, "not_own_chat": 1}
