"""Reconciliation (every RECONCILE_INTERVAL_MINUTES) and the retention purge (every PURGE_INTERVAL_HOURS)
on a schedule, inside the web process; 0 turns either off.

With several web replicas, leave it on in one (the others set 0) or run `python -m bot.cli reconcile`
from cron instead; a run is idempotent either way, so an overlap wastes work but records nothing twice
on PostgreSQL (each loan is reconciled under a row lock) and SQLite (one writer at a time).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timezone

from fastapi.concurrency import run_in_threadpool

from bot.lifecycle.reconcile import reconcile
from bot.privacy.purge import purge_from_settings

log = logging.getLogger(__name__)


async def reconcile_forever(database, policy, interval_minutes: int) -> None:
    while True:
        try:
            report = await run_in_threadpool(
                reconcile, database, policy, today=date.today(),
                now=datetime.now(timezone.utc).replace(tzinfo=None))
            log.info("scheduled reconciliation: %s", report.lines()[0])
            for line in report.changes:
                log.info("  %s", line)
        except Exception:  # noqa: BLE001 - a failed run is logged and retried at the next interval
            log.exception("scheduled reconciliation failed; next try in %s minutes", interval_minutes)
        await asyncio.sleep(interval_minutes * 60)


async def purge_forever(database, settings, interval_hours: int) -> None:
    """The first purge comes one interval after start-up: restarts do not purge again and again."""
    while True:
        await asyncio.sleep(interval_hours * 3600)
        try:
            report = await run_in_threadpool(purge_from_settings, settings=settings, database=database)
            log.info("scheduled retention purge: %s", "; ".join(report.text_lines()))
        except Exception:  # noqa: BLE001 - logged, retried at the next interval
            log.exception("scheduled retention purge failed; next try in %s hours", interval_hours)
