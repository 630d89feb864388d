"""The scale-out failure rehearsal (bench/rehearsal.py, docs/scale-out.md), shortened for CI.

nginx in front of two Rasa processes and two action servers on PostgreSQL and Redis; borrowers on
REST, the widget's socket.io and Telegram; one Rasa process and one action server SIGKILLed and
restarted mid-load, then PostgreSQL restarted. Every check of the full rehearsal (`make scale-test`)
must pass: nothing lost, nothing stored or answered twice, every borrower carried on, agents'
messages reached the widgets, the Telegram update killed mid-turn was answered on redelivery, the
database outage was answered clearly and recovered from without a restart.
"""
from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from bench.rehearsal import Plan, run_rehearsal
from bench.rehearsal_topology import NGINX
from tests.e2e.stack import MODEL
from tests.integration.require import require

pytestmark = [pytest.mark.slow, pytest.mark.rehearsal]

EXPECTED_CHECKS = {
    "no_lost_turn", "no_duplicated_event", "none_answered_twice", "every_borrower_continued",
    "agent_messages_reached_widgets", "telegram_killed_update_answered",
    "postgres_outage_answered_clearly", "postgres_recovered_by_itself",
}


def test_the_deployment_survives_a_killed_rasa_and_action_server_and_a_database_restart(
        postgres_url, redis_url, tmp_path: Path):
    require(Path(NGINX).exists(), "nginx is not installed (scripts/system_packages.sh: nginx-light)")
    require(MODEL.exists(), "no trained model (make setup)")
    require(shutil.which("pg_ctlcluster") is not None and os.geteuid() == 0,
            "restarting PostgreSQL needs pg_ctlcluster as root")
    plan = Plan(borrowers=6, kill_at=8, down_for=2, postgres_after=3, tail=8)
    report = asyncio.run(run_rehearsal(plan, postgres_url, redis_url, tmp_path))
    print(report.text)
    assert {verdict.name for verdict in report.verdicts} == EXPECTED_CHECKS
    failed = [verdict.line() + "".join(f"\n  - {p}" for p in verdict.problems[:5])
              for verdict in report.verdicts if not verdict.passed]
    assert not failed, "\n".join(failed) + f"\nlogs in {tmp_path}"
    assert report.figures["kill"]["all_answered_again_s"] is not None
