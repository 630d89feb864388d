"""Reconciliation on a schedule, inside the web process: every RECONCILE_INTERVAL_MINUTES (0: off).

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
