"""The scheduler: each due contact is decided once, sent at most once across schedulers and restarts, and
every refusal or failure leaves an attempt row. The contact rules are replaced by a fake here (they are
tested on their own); the database is real SQLite and the clock is the test's."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from bot.outreach import scheduler as scheduler_module
from bot.outreach.models import (
    ATTEMPT_FAILED, ATTEMPT_REFUSED, ATTEMPT_SENT, CLAIMED, DROPPED, FAILED, PROMISE_REMINDER, SCHEDULED, SENDING, SENT,
    Contact, ContactAttempt,
)
from bot.outreach.scheduler import OutreachScheduler
from bot.outreach.sender import RasaSender, SendError
from bot.storage import Database
from tests.unit.outreach_factories import POLICY

START = datetime(2026, 11, 21, 2, 0)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingSender:
    def __init__(self, fail_times: int = 0, delay: float = 0.0) -> None:
        self.calls: list[int] = []
        self.fail_times = fail_times
        self.delay = delay
        self._lock = threading.Lock()

    def delivered(self, contact: Contact) -> bool | None:
        return contact.id in self.calls

    def send(self, contact: Contact) -> None:
        time.sleep(self.delay)
        with self._lock:
            self.calls.append(contact.id)
            if len(self.calls) <= self.fail_times:
                raise SendError("rasa answered 502: bad gateway")


@dataclass
class FakeRules:
    """Stands in for bot.outreach.rules.decide: one answer for every contact, and what it was asked."""

    send: bool = True
    rule: str | None = None
    retry_at: datetime | None = None

    def __post_init__(self) -> None:
        self.asked: list[dict] = []

    def __call__(self, **kwargs):
        self.asked.append(kwargs)
        return SimpleNamespace(send=self.send, rule=self.rule, retry_at=self.retry_at)


@pytest.fixture
def rules(monkeypatch) -> FakeRules:
    fake = FakeRules()
    monkeypatch.setattr(scheduler_module, "decide", fake)
    monkeypatch.setattr(scheduler_module, "contact_facts", lambda session, **kwargs: SimpleNamespace(**kwargs))
    return fake


def add_contacts(database: Database, count: int, due_at: datetime = START) -> None:
    with database.unit_of_work() as session:
        for n in range(count):
            session.add(Contact(key=f"promise:{n}:before:1", loan_reference=f"HCF-{1000 + n}",
                                conversation_id=f"telegram:{n}", channel="telegram", reason=PROMISE_REMINDER,
                                subject=f"promise:{n}", language="en", time_zone="Asia/Shanghai",
                                jurisdiction="CN", due_at=due_at, status=SCHEDULED, attempts=0, created_at=START))


def rows(database: Database, model) -> list:
    with database.unit_of_work() as session:
        return list(session.execute(select(model).order_by(model.id)).scalars())


def make(database, sender, clock, **kwargs) -> OutreachScheduler:
    return OutreachScheduler(database, POLICY, sender, clock=clock, **kwargs)


def test_a_due_contact_is_decided_sent_and_recorded(database, rules):
    add_contacts(database, 1)
    add_contacts_later = START + timedelta(hours=1)
    with database.unit_of_work() as session:
        session.add(Contact(key="later", loan_reference="HCF-2", conversation_id="telegram:2", channel="telegram",
                            reason=PROMISE_REMINDER, subject="promise:x", language="en", jurisdiction="CN",
                            due_at=add_contacts_later, status=SCHEDULED, attempts=0, created_at=START))
    sender = RecordingSender()
    report = make(database, sender, Clock(START)).tick()
    assert (report.claimed, report.sent) == (1, 1)
    first, later = rows(database, Contact)
    assert (first.status, first.sent_at, first.attempts, first.claimed_by) == (SENT, START, 1, None)
    assert later.status == SCHEDULED and sender.calls == [first.id]
    [attempt] = rows(database, ContactAttempt)
    assert (attempt.outcome, attempt.attempted_at, attempt.local_time) == (
        ATTEMPT_SENT, START, "2026-11-21T10:00:00+08:00")
    assert rules.asked[0]["time_zone"] == "Asia/Shanghai" and rules.asked[0]["jurisdiction"] == "CN"


def test_a_refusal_with_a_retry_time_reschedules_with_an_attempt_row(database, rules):
    rules.send, rules.rule, rules.retry_at = False, "quiet_hours", START + timedelta(hours=8)
    add_contacts(database, 1)
    sender = RecordingSender()
    assert make(database, sender, Clock(START)).tick().refused == 1
    [contact] = rows(database, Contact)
    assert (contact.status, contact.due_at, contact.claimed_by) == (SCHEDULED, START + timedelta(hours=8), None)
    [attempt] = rows(database, ContactAttempt)
    assert (attempt.outcome, attempt.rule) == (ATTEMPT_REFUSED, "quiet_hours") and sender.calls == []


def test_a_refusal_without_retry_drops_the_contact_with_the_rule(database, rules):
    rules.send, rules.rule = False, "opted_out"
    add_contacts(database, 1)
    assert make(database, RecordingSender(), Clock(START)).tick().dropped == 1
    [contact] = rows(database, Contact)
    assert (contact.status, contact.outcome) == (DROPPED, "opted_out")
    assert [(a.outcome, a.rule) for a in rows(database, ContactAttempt)] == [(ATTEMPT_REFUSED, "opted_out")]


def test_a_failed_send_is_retried_with_backoff_then_given_up(database, rules):
    add_contacts(database, 1)
    clock = Clock(START)
    sender = RecordingSender(fail_times=99)
    scheduler = make(database, sender, clock, max_send_attempts=3, retry_backoff=timedelta(minutes=5))
    scheduler.tick()
    [contact] = rows(database, Contact)
    assert (contact.status, contact.due_at) == (SCHEDULED, START + timedelta(minutes=5))
    clock.now += timedelta(minutes=4)
    assert scheduler.tick().claimed == 0        # not before the backoff
    clock.now += timedelta(minutes=1)
    scheduler.tick()
    [contact] = rows(database, Contact)
    assert contact.due_at == clock.now + timedelta(minutes=10)   # doubled
    clock.now = contact.due_at
    scheduler.tick()
    [contact] = rows(database, Contact)
    assert contact.status == FAILED and contact.outcome.startswith("send failed 3 times")
    assert [a.outcome for a in rows(database, ContactAttempt)] == [ATTEMPT_FAILED] * 3 and len(sender.calls) == 3


def test_a_send_that_fails_once_is_sent_on_the_retry(database, rules):
    add_contacts(database, 1)
    clock = Clock(START)
    scheduler = make(database, RecordingSender(fail_times=1), clock)
    scheduler.tick()
    clock.now += timedelta(hours=1)
    scheduler.tick()
    [contact] = rows(database, Contact)
    assert contact.status == SENT and contact.attempts == 2
    assert [a.outcome for a in rows(database, ContactAttempt)] == [ATTEMPT_FAILED, ATTEMPT_SENT]


def test_two_schedulers_on_one_database_never_send_the_same_contact(database, rules):
    add_contacts(database, 40)
    sender = RecordingSender(delay=0.002)
    second_database = Database(database.url)
    schedulers = [make(db, sender, Clock(START), batch_size=5) for db in (database, second_database)]
    errors: list[BaseException] = []

    def run(scheduler: OutreachScheduler) -> None:
        try:
            for _ in range(20):
                scheduler.tick()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second_database.dispose()
    assert errors == []
    assert sorted(sender.calls) == sorted({c.id for c in rows(database, Contact)})   # each exactly once
    assert {c.status for c in rows(database, Contact)} == {SENT}
    assert len(rows(database, ContactAttempt)) == 40


def test_a_scheduler_that_died_mid_batch_loses_nothing_and_sends_once(database, rules):
    add_contacts(database, 3)
    clock = Clock(START)
    crashed = make(database, RecordingSender(), clock)
    claimed = crashed.claim()                    # claimed and committed, then the process dies
    assert len(claimed) == 3 and {c.status for c in rows(database, Contact)} == {CLAIMED}
    sender = RecordingSender()
    restarted = make(database, sender, clock)
    assert restarted.tick().claimed == 0         # a live claim is not stolen
    clock.now += restarted.claim_timeout + timedelta(seconds=1)
    assert restarted.release_stale_claims() == 3
    restarted.tick()
    restarted.tick()
    assert sorted(sender.calls) == sorted(c.id for c in claimed)
    assert {c.status for c in rows(database, Contact)} == {SENT}


class _ProcessDied(BaseException):
    """The scheduler process stops (killed) at this point: nothing after it runs."""


class DiesAfterRasaTookIt(RecordingSender):
    def send(self, contact: Contact) -> None:
        super().send(contact)
        raise _ProcessDied


class DiesBeforeRasaTookIt(RecordingSender):
    def send(self, contact: Contact) -> None:
        raise _ProcessDied


@pytest.mark.parametrize("crash, sends_after_restart", [(DiesAfterRasaTookIt, 0), (DiesBeforeRasaTookIt, 1)])
def test_a_scheduler_killed_mid_send_never_sends_twice(database, rules, crash, sends_after_restart):
    add_contacts(database, 1)
    clock = Clock(START)
    first = crash()
    with pytest.raises(_ProcessDied):
        make(database, first, clock).tick()
    [contact] = rows(database, Contact)
    assert contact.status == SENDING
    # The restarted scheduler asks Rasa what the conversation holds: the first sender's deliveries.
    second = RecordingSender()
    second.calls = first.calls
    delivered_before = list(first.calls)
    restarted = make(database, second, clock)
    assert restarted.tick().claimed == 0 and rows(database, Contact)[0].status == SENDING  # a live claim
    clock.now += restarted.claim_timeout + timedelta(seconds=1)
    restarted.tick()
    restarted.tick()
    [contact] = rows(database, Contact)
    assert contact.status == SENT
    assert len(second.calls) - len(delivered_before) == sends_after_restart
    assert len(second.calls) == 1  # the borrower got the message exactly once
    [attempt] = rows(database, ContactAttempt)
    assert attempt.outcome == ATTEMPT_SENT


def test_an_interrupted_send_waits_while_rasa_cannot_say(database, rules):
    add_contacts(database, 1)
    clock = Clock(START)
    with pytest.raises(_ProcessDied):
        make(database, DiesAfterRasaTookIt(), clock).tick()

    class Unknowing(RecordingSender):
        def delivered(self, contact):
            return None

    later = make(database, Unknowing(), clock)
    clock.now += later.claim_timeout + timedelta(seconds=1)
    assert later.tick().claimed == 0
    assert rows(database, Contact)[0].status == SENDING  # neither re-sent nor marked sent


class _RasaStub(BaseHTTPRequestHandler):
    received: list[tuple[str, dict, dict]] = []
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        parts = urlsplit(self.path)
        type(self).received.append((parts.path, parse_qs(parts.query), json.loads(self.rfile.read(length))))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"tracker": {}}')

    def do_GET(self):  # noqa: N802 - the tracker, as Rasa answers it after a trigger_intent
        events = [{"event": "user", "text": None, "parse_data": {
            "intent": {"name": "EXTERNAL_outreach", "confidence": 1.0},
            "entities": [{"entity": "outreach_reason", "value": "promise_reminder"},
                         {"entity": "contact_id", "value": "7"}]}}]
        body = json.dumps({"events": events}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def rasa_stub():
    _RasaStub.received, _RasaStub.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _RasaStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield _RasaStub, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _contact() -> Contact:
    return Contact(id=7, conversation_id="telegram:4242", channel="telegram", reason=PROMISE_REMINDER)


def test_rasa_sender_triggers_the_external_intent_on_the_contacts_channel(rasa_stub):
    stub, url = rasa_stub
    sender = RasaSender(url + "/", "s3cret")
    sender.send(_contact())
    sender.close()
    [(path, query, body)] = stub.received
    assert path == "/conversations/telegram:4242/trigger_intent"
    assert query == {"output_channel": ["telegram"], "token": ["s3cret"]}
    assert body == {"name": "EXTERNAL_outreach",
                    "entities": {"outreach_reason": "promise_reminder", "contact_id": "7"}}


def test_rasa_sender_finds_a_contact_in_the_conversation_or_says_it_cannot_tell(rasa_stub):
    stub, url = rasa_stub
    sender = RasaSender(url, "t")
    assert sender.delivered(_contact()) is True
    assert sender.delivered(Contact(id=8, conversation_id="telegram:4242", channel="telegram")) is False
    stub.status = 503
    assert sender.delivered(_contact()) is None
    assert RasaSender("http://127.0.0.1:9", "t", timeout=1).delivered(_contact()) is None


def test_rasa_sender_raises_send_error_on_an_error_answer_or_no_server(rasa_stub):
    stub, url = rasa_stub
    stub.status = 500
    with pytest.raises(SendError, match="500"):
        RasaSender(url, "t").send(_contact())
    with pytest.raises(SendError, match="unreachable"):
        RasaSender("http://127.0.0.1:9", "t", timeout=1).send(_contact())


def test_one_contact_whose_facts_cannot_be_read_does_not_hold_back_the_others(database, rules, monkeypatch):
    add_contacts(database, 2)

    def facts(session, **kwargs):
        if kwargs["conversation_id"] == "telegram:0":
            raise RuntimeError("corrupt summary")
        return SimpleNamespace(**kwargs)

    monkeypatch.setattr(scheduler_module, "contact_facts", facts)
    sender = RecordingSender()
    report = make(database, sender, Clock(START), retry_backoff=timedelta(minutes=5)).tick()
    assert (report.sent, report.failed) == (1, 1)
    broken, fine = rows(database, Contact)
    assert (broken.status, broken.due_at, broken.claimed_by) == (SCHEDULED, START + timedelta(minutes=5), None)
    assert fine.status == SENT and sender.calls == [fine.id]
    assert [(a.outcome, a.rule) for a in rows(database, ContactAttempt) if a.contact_id == broken.id] == [
        (ATTEMPT_REFUSED, "internal_error")]  # nothing was sent: not an attempt the caps count
