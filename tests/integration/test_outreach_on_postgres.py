"""The scheduler's claim on a real PostgreSQL: FOR UPDATE SKIP LOCKED means a second scheduler skips rows
another holds (it does not wait for them, nor take them), and racing schedulers send each contact once."""
from __future__ import annotations

import threading
from datetime import datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from bot.outreach import scheduler as scheduler_module
from bot.outreach.models import PROMISE_REMINDER, SCHEDULED, SENT, Contact
from bot.outreach.scheduler import OutreachScheduler
from bot.storage import Database
from tests.unit.outreach_factories import POLICY

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 21, 2, 0)


class _Sender:
    def __init__(self) -> None:
        self.calls: list[int] = []
        self._lock = threading.Lock()

    def send(self, contact) -> None:
        with self._lock:
            self.calls.append(contact.id)


@pytest.fixture(autouse=True)
def always_send(monkeypatch):
    monkeypatch.setattr(scheduler_module, "decide", lambda **_: SimpleNamespace(send=True, rule=None, retry_at=None))
    monkeypatch.setattr(scheduler_module, "contact_facts", lambda session, **_: None)


def _add(database: Database, count: int) -> None:
    with database.unit_of_work() as session:
        for n in range(count):
            session.add(Contact(key=f"k{n}", loan_reference="HCF-1001", conversation_id=f"telegram:{n}",
                                channel="telegram", reason=PROMISE_REMINDER, subject="promise:1", language="en",
                                jurisdiction="CN", due_at=NOW, status=SCHEDULED, attempts=0, created_at=NOW))


def test_a_claim_skips_rows_another_session_holds_instead_of_waiting(pg_database):
    _add(pg_database, 6)
    scheduler = OutreachScheduler(pg_database, POLICY, _Sender(), clock=lambda: NOW)
    holder = pg_database.engine.connect()
    transaction = holder.begin()
    held = holder.execute(text("SELECT id FROM contacts ORDER BY id LIMIT 2 FOR UPDATE")).scalars().all()
    claimed: list[Contact] = []
    claiming = threading.Thread(target=lambda: claimed.extend(scheduler.claim()))
    try:
        claiming.start()
        claiming.join(timeout=5)
        finished_while_held = not claiming.is_alive()   # a plain FOR UPDATE would wait for the holder
    finally:
        transaction.rollback()
        holder.close()
        claiming.join()
    assert finished_while_held
    assert len(claimed) == 4 and not {c.id for c in claimed} & set(held)


def test_two_schedulers_racing_on_postgres_send_each_contact_once(pg_database):
    _add(pg_database, 60)
    sender = _Sender()
    other = Database(pg_database.url)
    schedulers = [OutreachScheduler(db, POLICY, sender, clock=lambda: NOW, batch_size=7)
                  for db in (pg_database, other)]
    threads = [threading.Thread(target=lambda s=s: [s.tick() for _ in range(12)]) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    with pg_database.unit_of_work() as session:
        contacts = session.execute(select(Contact)).scalars().all()
    assert sorted(sender.calls) == sorted(c.id for c in contacts)
    assert {c.status for c in contacts} == {SENT}
