"""`POST /api/payments` over HTTP (FastAPI's TestClient on the real app, real SQLite): signatures,
replays, retries, bad bodies, and the reconciliation it triggers."""
from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, time as clock, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from bot.accounts.models import Payment
from bot.agreements.service import record_promise
from bot.config import load_settings
from channels.web.app import create_app
from channels.web.payments import sign
from tests.conftest import TODAY

SECRET = "feed-secret-for-tests"


@pytest.fixture
def client(demo_database, tmp_path):
    settings = replace(load_settings(), var_dir=tmp_path, database_url=demo_database.url,
                       payments_feed_secret=SECRET, reconcile_interval_minutes=0, purge_interval_hours=0)
    with TestClient(create_app(settings)) as http:
        yield http


def post(client, document, *, secret=SECRET, timestamp=None, body=None):
    body = body if body is not None else json.dumps(document).encode()
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    return client.post("/api/payments", content=body, headers={
        "Content-Type": "application/json", "X-Payments-Timestamp": timestamp,
        "X-Payments-Signature": sign(secret, timestamp, body)})


def credited(payment_id, amount="500.00", reference="HCF-3003"):
    return {"payment_id": payment_id, "loan_reference": reference, "amount": amount,
            "paid_on": TODAY.isoformat(), "status": "credited"}


def test_a_signed_feed_is_recorded_once_and_a_retry_is_a_duplicate(client, demo_database):
    first = post(client, {"payments": [credited("PAY-1")]})
    assert first.status_code == 200 and first.json()["recorded"] == 1
    retry = post(client, {"payments": [credited("PAY-1")]})
    assert retry.status_code == 200 and (retry.json()["recorded"], retry.json()["duplicates"]) == (0, 1)
    with demo_database.unit_of_work() as session:
        rows = session.execute(select(Payment).where(Payment.external_id == "PAY-1")).scalars().all()
        assert [(p.source, str(p.amount)) for p in rows] == [("feed", "500.00")]


def test_the_feed_reconciles_at_once(client, demo_database):
    with demo_database.unit_of_work() as session:
        record_promise(session, conversation_id="c", loan_reference="HCF-3003", amount="980.00",
                       due_on=TODAY + timedelta(days=3), now=datetime.combine(TODAY, clock()))
    answer = post(client, {"payments": [credited("PAY-2", "980.00")]})
    assert any("open -> kept (payment PAY-2)" in line for line in answer.json()["changes_of_state"])


@pytest.mark.parametrize("tamper", ["secret", "body", "stale", "missing"])
def test_unsigned_forged_or_replayed_requests_are_refused(client, demo_database, tamper):
    body = json.dumps({"payments": [credited("PAY-X")]}).encode()
    if tamper == "secret":
        answer = post(client, None, body=body, secret="guessed")
    elif tamper == "body":
        timestamp = str(int(time.time()))
        answer = client.post("/api/payments", content=body.replace(b"500.00", b"5000.00"), headers={
            "X-Payments-Timestamp": timestamp, "X-Payments-Signature": sign(SECRET, timestamp, body)})
    elif tamper == "stale":
        answer = post(client, None, body=body, timestamp=str(int(time.time()) - 3600))
    else:
        answer = client.post("/api/payments", content=body)
    assert answer.status_code == 401
    with demo_database.unit_of_work() as session:
        assert session.execute(select(Payment).where(Payment.external_id == "PAY-X")).first() is None


@pytest.mark.parametrize("body, status", [
    (b"not json", 400),
    (b'{"payments": []}', 400),
    (b'[1, 2]', 400),
    (json.dumps({"payments": ["a string"]}).encode(), 422),
    (json.dumps({"payments": [{**credited("Q"), "loan_reference": "HCF-1001'; DROP TABLE payments;--"}]}).encode(), 422),
    (json.dumps({"payments": [{**credited("Q"), "amount": 500.5}]}).encode(), 422),
    (b"x" * (3 * 1024 * 1024), 413),
])
def test_bad_bodies_get_a_clear_answer_and_record_nothing(client, demo_database, body, status):
    answer = post(client, None, body=body)
    assert answer.status_code == status
    assert answer.json()["error"]
    with demo_database.unit_of_work() as session:
        assert session.execute(select(Payment).where(Payment.source == "feed")).first() is None


def test_rejected_rows_are_listed_by_position_and_column(client):
    answer = post(client, {"payments": [credited("OK"), {**credited("BAD"), "paid_on": "2026-02-30"}]})
    assert answer.status_code == 422
    assert answer.json()["rejected"][0]["row"] == 2 and answer.json()["rejected"][0]["column"] == "paid_on"
    assert answer.json()["recorded"] == 0


def test_the_database_being_down_is_a_503_that_asks_for_the_same_request_again(client, demo_database):
    client.app.state.database.engine.dispose()
    broken = client.app.state.database
    broken.engine = create_engine("sqlite:////nonexistent-dir/app.db")
    broken._sessions.configure(bind=broken.engine)
    answer = post(client, {"payments": [credited("PAY-9")]})
    assert answer.status_code == 503 and "send the same request again" in answer.json()["error"]


def test_the_web_app_reconciles_on_its_schedule(demo_database, tmp_path):
    """With RECONCILE_INTERVAL_MINUTES set, the web process judges promises by itself (first run at start-up)."""
    from bot.agreements.models import PromiseToPay

    with demo_database.unit_of_work() as session:
        promise_id = record_promise(session, conversation_id="c", loan_reference="HCF-4004", amount="1050.00",
                                    due_on=TODAY - timedelta(days=10), now=datetime.combine(TODAY, clock()) - timedelta(days=12))
    settings = replace(load_settings(), var_dir=tmp_path, database_url=demo_database.url,
                       payments_feed_secret=SECRET, reconcile_interval_minutes=5, purge_interval_hours=0)
    status = None
    with TestClient(create_app(settings)):
        for _ in range(100):  # the first run starts with the app, in a worker thread
            with demo_database.unit_of_work() as session:
                status = session.get(PromiseToPay, promise_id).status
            if status != "open":
                break
            time.sleep(0.1)
    assert status == "broken"
