"""Races on the agent queue, run against any database (SQLite here, PostgreSQL in tests/integration).

Each thread's exception is collected, not lost: a thread that crashes counts as a failure of the race.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from bot.handoff.queue import EscalationQueue, NotAllowed
from bot.storage import Database

T0 = datetime(2026, 11, 28, 10, 0)


@dataclass
class RaceResult:
    results: dict[str, object] = field(default_factory=dict)
    crashes: dict[str, BaseException] = field(default_factory=dict)


def run_at_once(work: dict[str, Callable[[threading.Barrier], object]]) -> RaceResult:
    """Run each named callable in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(work))
    race = RaceResult()
    lock = threading.Lock()

    def runner(name: str, step: Callable[[threading.Barrier], object]) -> None:
        try:
            outcome = step(barrier)
            with lock:
                race.results[name] = outcome
        except BaseException as exc:  # noqa: BLE001 - every crash is reported by the test
            with lock:
                race.crashes[name] = exc

    threads = [threading.Thread(target=runner, args=item) for item in work.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing thread never finished"
    return race


def open_escalation(db: Database, conversation: str) -> int:
    with db.unit_of_work() as session:
        escalation, _ = EscalationQueue(session).open(
            conversation_id=conversation, channel="socketio", reason="request_human", priority=3,
            summary={"verified": False, "language": "en"}, language="en", now=T0)
        return escalation.id


def claim_race(db: Database, agents: int = 12) -> tuple[RaceResult, str]:
    """`agents` agents claim one escalation at once; returns the race and who holds it afterwards."""
    escalation_id = open_escalation(db, "contested")

    def claimer(name: str) -> Callable[[threading.Barrier], object]:
        def claim(barrier: threading.Barrier) -> bool:
            barrier.wait()
            with db.unit_of_work() as session:
                return EscalationQueue(session).claim(escalation_id, name, T0)
        return claim

    race = run_at_once({f"agent{i}": claimer(f"agent{i}") for i in range(agents)})
    with db.unit_of_work() as session:
        return race, EscalationQueue(session).get(escalation_id).claimed_by


def close_race(db: Database) -> tuple[RaceResult, tuple[str, str]]:
    """Ada (holding it) hands back while a supervisor closes it; returns the race and the final (status, outcome)."""
    escalation_id = open_escalation(db, "contested")
    with db.unit_of_work() as session:
        EscalationQueue(session).claim(escalation_id, "ada", T0)

    def closer(outcome: str) -> Callable[[threading.Barrier], object]:
        def close(barrier: threading.Barrier) -> str:
            with db.unit_of_work() as session:
                queue = EscalationQueue(session)
                escalation = queue.get(escalation_id)  # both read it while it is still claimed
                barrier.wait()
                try:
                    queue.close(escalation, outcome, T0)
                    return "closed"
                except NotAllowed:
                    return "refused"
        return close

    race = run_at_once({"ada": closer("handed_back"), "sam": closer("resolved_other")})
    with db.unit_of_work() as session:
        final = EscalationQueue(session).get(escalation_id)
        return race, (final.status, final.outcome)


def assert_one_claim_won(race: RaceResult, holder: str) -> None:
    assert race.crashes == {}, f"claims crashed: {race.crashes}"
    winners = [name for name, won in race.results.items() if won]
    assert winners == [holder], f"winners {winners}, holder {holder}"


def assert_one_close_won(race: RaceResult, final: tuple[str, str]) -> None:
    assert race.crashes == {}, f"closes crashed: {race.crashes}"
    assert sorted(race.results.values()) == ["closed", "refused"]
    winner = next(name for name, result in race.results.items() if result == "closed")
    assert final == ("closed", {"ada": "handed_back", "sam": "resolved_other"}[winner])
