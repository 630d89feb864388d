"""The daily risk scoring of the scheduler process: once per day, decided by the database, never fatal."""
from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from bot.config import ConfigError
from bot.outreach.scheduler import OutreachScheduler
from bot.risk.daily import DailyScoring, scored_on, scoring_mode
from bot.risk.models import RiskScore
from tests.conftest import PROJECT_ROOT


def scores(database) -> int:
    with database.unit_of_work() as session:
        return session.execute(select(func.count()).select_from(RiskScore)).scalar_one()


def test_the_book_is_scored_once_a_day_whatever_the_process_remembers(demo_database, tmp_path):
    clock = {"now": datetime(2026, 11, 28, 2, 0)}
    daily = DailyScoring(demo_database, tmp_path, lambda: clock["now"], today=lambda: clock["now"].date())
    first = daily()
    assert first is not None and first.loans >= 1 and scores(demo_database) == first.loans
    assert scored_on(demo_database, date(2026, 11, 28)) and not scored_on(demo_database, date(2026, 11, 29))
    clock["now"] = datetime(2026, 11, 28, 23, 59)
    assert daily() is None  # later the same day: nothing
    again = DailyScoring(demo_database, tmp_path, lambda: clock["now"], today=lambda: clock["now"].date())
    assert again() is None  # a restarted scheduler reads today's run from the database
    clock["now"] = datetime(2026, 11, 29, 0, 1)
    assert daily() is not None and scores(demo_database) == 2 * first.loans


def test_the_mode_is_daily_or_off(monkeypatch):
    monkeypatch.delenv("RISK_SCORING", raising=False)
    assert scoring_mode() == "daily"
    monkeypatch.setenv("RISK_SCORING", "OFF")
    assert scoring_mode() == "off"
    monkeypatch.setenv("RISK_SCORING", "hourly")
    with pytest.raises(ConfigError, match="RISK_SCORING"):
        scoring_mode()


def test_a_failing_scoring_run_does_not_stop_the_follow_up(demo_database):
    ticks = []

    class Scheduler(OutreachScheduler):
        def tick(self):
            ticks.append(1)
            stop.set()
            return "tick"

    def broken():
        raise RuntimeError("the model file is unreadable")

    stop = threading.Event()
    scheduler = Scheduler.__new__(Scheduler)
    scheduler.run_forever(0.01, stop, before_tick=broken)
    assert ticks == [1]


def test_one_tick_of_the_scheduler_process_scores_the_book(tmp_path, demo_database):
    url = demo_database.engine.url.render_as_string(hide_password=False)
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "APP_VAR_DIR": str(tmp_path / "var"), "HOME": str(tmp_path),
           "RASA_URL": "http://127.0.0.1:9"}
    runs = [subprocess.run([sys.executable, "-m", "bot.outreach", "--once"], cwd=PROJECT_ROOT, env=env,
                           capture_output=True, text=True, timeout=300) for _ in range(2)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert "risk scoring: " in runs[0].stdout and "loans scored with lr-" in runs[0].stdout
    assert "risk scoring: already done today" in runs[1].stdout
    assert scores(demo_database) >= 1
    off = subprocess.run([sys.executable, "-m", "bot.outreach", "--once"], cwd=PROJECT_ROOT,
                         env={**env, "RISK_SCORING": "off"}, capture_output=True, text=True, timeout=300)
    assert off.returncode == 0 and "risk scoring" not in off.stdout
