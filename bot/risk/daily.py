"""The daily scoring run, done by the follow-up scheduler process (Procfile `outreach`, one replica).

Once per business day, before the day's follow-up is planned (so a risk check-in is planned from today's
scores), every active loan is scored as `python -m bot.cli score` scores it. Whether today's run happened is
read from the database (a `risk_scores` row stamped today), not from the process's memory: a restarted
scheduler does not score twice, and a scheduler that was down at the usual hour scores when it comes back.
`RISK_SCORING=off` leaves scoring to an external schedule (cron, a Kubernetes CronJob).
"""
from __future__ import annotations

import logging
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from bot.config import ConfigError
from bot.risk.models import RiskScore
from bot.risk.scoring import ScoringRun, current_or_trained, score_book
from bot.storage import Database

logger = logging.getLogger(__name__)
MODES = ("daily", "off")


def scoring_mode() -> str:
    """RISK_SCORING: `daily` (default) or `off`."""
    mode = os.environ.get("RISK_SCORING", "daily").strip().lower() or "daily"
    if mode not in MODES:
        raise ConfigError(f"RISK_SCORING={mode!r}: must be one of {', '.join(MODES)}")
    return mode


def scored_on(database: Database, day: date) -> bool:
    start = datetime.combine(day, datetime.min.time())
    with database.unit_of_work() as session:
        return session.execute(select(RiskScore.id).where(RiskScore.scored_at >= start,
                                                          RiskScore.scored_at < start + timedelta(days=1))
                               .limit(1)).first() is not None


class DailyScoring:
    """Scores the book when today has no scores yet; call it as often as you like."""

    def __init__(self, database: Database, var_dir: Path, clock: Callable[[], datetime],
                 today: Callable[[], date] = date.today) -> None:
        self.database, self.var_dir, self.clock, self.today = database, var_dir, clock, today

    def __call__(self) -> ScoringRun | None:
        now = self.clock()
        if scored_on(self.database, now.date()):
            return None
        stored, trained = current_or_trained(self.var_dir)
        run = score_book(self.database, stored, self.today(), now)
        logger.info("risk.daily_scoring loans=%s model=%s trained=%s bands=%s psi=%.3f",
                    run.loans, run.version, trained, run.bands, run.psi)
        return run
