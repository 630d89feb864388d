"""`python -m bot.outreach`: the follow-up scheduler (Procfile `outreach`). `--once`: one tick (cron, tests).

Each tick first runs the day's risk scoring when it has not run yet (`bot/risk/daily.py`; RISK_SCORING=off
leaves it to an external schedule), then plans and sends the follow-up that is due."""
from __future__ import annotations

import argparse
import logging
import signal
import threading

from bot.config import ConfigError, _int, load_settings
from bot.negotiation.policy import load_policy
from bot.outreach.scheduler import OutreachScheduler
from bot.outreach.sender import RasaSender
from bot.risk.daily import DailyScoring, scoring_mode
from bot.storage import Database


def poll_seconds() -> int:
    """OUTREACH_POLL_SECONDS (default 30): how often due contacts are looked for."""
    seconds = _int("OUTREACH_POLL_SECONDS", 30)
    if seconds < 1:
        raise ConfigError(f"OUTREACH_POLL_SECONDS={seconds}: must be at least 1")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.outreach", description=__doc__)
    parser.add_argument("--once", action="store_true", help="run one tick and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = load_settings()
    interval = poll_seconds()
    database = Database(settings.database_url)
    sender = RasaSender(settings.rasa_url, settings.rasa_api_token)
    scheduler = OutreachScheduler(database, load_policy(settings.policy_path), sender)
    daily = DailyScoring(database, settings.var_dir, scheduler.clock) if scoring_mode() == "daily" else None
    try:
        scheduler.release_stale_claims()
        if args.once:
            if daily is not None:
                run = daily()
                print(f"risk scoring: {run.loans} loans scored with {run.version}" if run else
                      "risk scoring: already done today")
            print(scheduler.tick())
            return 0
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        scheduler.run_forever(interval, stop, before_tick=daily)
        return 0
    finally:
        sender.close()
        database.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
