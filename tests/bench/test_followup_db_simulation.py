"""The database-backed follow-up simulation: the real planner and scheduler on SQLite break no contact rule,
and the independent checker catches a scheduler whose decision ignores the rules.

Each run builds its own world and its own temporary database; nothing is mocked but the sender (which
records instead of calling Rasa) and, in the second test, the decision itself."""
from __future__ import annotations

import pytest

from bench.simulate_followup_db import report, simulate
from bot.outreach import scheduler as scheduler_module
from bot.outreach.rules import Decision

pytestmark = pytest.mark.slow  # about a minute each run: every scheduler tick re-plans the whole book

SMALL = dict(borrowers=20, days=7, seed=3, step_minutes=60)
STOP_RULES = ("opted_out", "handoff_open", "dispute_open", "vulnerable", "hold:agent_pause", "hold:breathing_space")


@pytest.fixture(scope="module")
def small_run():
    return simulate(**SMALL)


def test_the_real_scheduler_sends_reminders_and_breaks_no_contact_rule(small_run):
    results = small_run
    assert results.violations == 0, results.checker_text
    assert results.checked == results.sent + results.failed_attempts
    assert results.sent_by_reason["promise_reminder"] > 0 and results.reminders_sent > 0
    # refusals happened, for named rules: a time rule and a stop rule
    assert any(rule.startswith("quiet_hours:") for rule in results.refused_by_rule), results.refused_by_rule
    assert any(rule in STOP_RULES for rule in results.refused_by_rule), results.refused_by_rule
    assert "violations (independent checker" in report(results)


def test_every_due_promise_reminder_not_sent_names_what_stopped_it(small_run):
    results = small_run
    assert results.reminders_due > results.reminders_sent
    assert sum(results.reminders_unsent.values()) == results.reminders_due - results.reminders_sent
    assert all(why and why != "None" for why in results.reminders_unsent)


def test_the_checker_catches_a_scheduler_that_always_sends(monkeypatch):
    monkeypatch.setattr(scheduler_module, "decide", lambda **_: Decision(True, None, None))
    results = simulate(**SMALL)
    assert results.violations > 0
    assert results.refused_attempts == 0
    assert set(results.violation_counts) & {"quiet_hours", *STOP_RULES}, results.violation_counts
