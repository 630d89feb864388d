"""Reconciliation (every RECONCILE_INTERVAL_MINUTES), the retention purge (every PURGE_INTERVAL_HOURS) and the
unclaimed-escalation notice (every WAIT_NOTICE_INTERVAL_SECONDS, default 30) on a schedule, inside the web
process; 0 turns any of them off.

With several web replicas, leave it on in one (the others set 0) or run `python -m bot.cli reconcile`
from cron instead; a run is idempotent either way, so an overlap wastes work but records nothing twice
on PostgreSQL (each loan is reconciled under a row lock) and SQLite (one writer at a time).
"""
from __future__ import annotations

import asyncio
import logging
import os
from datetime import date, datetime, timedelta, timezone

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update

from bot.handoff.models import WAITING, Escalation
from bot.handoff.waiting import needs_unclaimed_notice

from bot.lifecycle.reconcile import reconcile
from bot.privacy.purge import purge_from_settings
from channels.console.rasa_api import RasaUnavailable

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


UNCLAIMED_INTENT = "EXTERNAL_desk_unclaimed"


def wait_notice_interval() -> int:
    """Seconds between unclaimed-notice ticks (WAIT_NOTICE_INTERVAL_SECONDS; 0 off, e.g. on all but one replica)."""
    try:
        return max(0, int(os.environ.get("WAIT_NOTICE_INTERVAL_SECONDS", "30")))
    except ValueError:
        raise SystemExit("WAIT_NOTICE_INTERVAL_SECONDS must be a whole number of seconds") from None


def notify_unclaimed(database, desk, rasa, now: datetime) -> list[int]:
    """Tell every waiting borrower nobody claimed within `desk.unclaimed_notice_minutes`, once each.

    `wait_notice_at` is set first (compare-and-set, so two web replicas never both send it); the
    bot is resumed for the borrower's choice and `EXTERNAL_desk_unclaimed` triggered; its action
    checks the escalation row again. When Rasa is unreachable the mark is taken back for the next tick.
    Returns the escalation ids notified.
    """
    due_before = now - timedelta(minutes=desk.unclaimed_notice_minutes)
    with database.unit_of_work() as session:
        candidates = session.execute(
            select(Escalation.id, Escalation.conversation_id, Escalation.status, Escalation.created_at)
            .where(Escalation.status == WAITING, Escalation.wait_notice_at.is_(None),
                   Escalation.created_at <= due_before)
            .order_by(Escalation.created_at).limit(100)
        ).all()
        marked = []
        for row in candidates:
            if not needs_unclaimed_notice(desk, status=row.status, created_at=row.created_at, wait_notice_at=None,
                                          now_utc=now):
                continue
            taken = session.execute(
                update(Escalation).where(Escalation.id == row.id, Escalation.status == WAITING,
                                         Escalation.wait_notice_at.is_(None))
                .values(wait_notice_at=now).execution_options(synchronize_session=False)
            ).rowcount == 1
            if taken:
                marked.append((row.id, row.conversation_id))
    notified = []
    for escalation_id, conversation_id in marked:
        try:
            rasa.resume(conversation_id)
            rasa.trigger(conversation_id, UNCLAIMED_INTENT)
            notified.append(escalation_id)
        except RasaUnavailable as exc:
            log.warning("unclaimed notice for #%s not delivered (%s); retried at the next tick", escalation_id, exc)
            with database.unit_of_work() as session:
                session.execute(update(Escalation).where(Escalation.id == escalation_id)
                                .values(wait_notice_at=None).execution_options(synchronize_session=False))
    return notified


async def notify_unclaimed_forever(database, desk, rasa, interval_seconds: int) -> None:
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            notified = await run_in_threadpool(notify_unclaimed, database, desk, rasa,
                                               datetime.now(timezone.utc).replace(tzinfo=None))
            if notified:
                log.info("unclaimed notice sent for escalations %s", ", ".join(f"#{i}" for i in notified))
        except Exception:  # noqa: BLE001 - logged, retried at the next tick
            log.exception("unclaimed notice tick failed; next try in %s s", interval_seconds)
