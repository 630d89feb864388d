"""The account panel's API: a verified borrower's promises, plans with their standing, payments with
how they were applied, and state changes, for whoever may read the escalation and nobody else."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.accounts.models import PaymentStatus
from bot.agreements.service import record_offer, sign_agreement
from bot.config import load_settings
from bot.handoff.account_view import account_books
from bot.handoff.accounts import create_account
from bot.lifecycle.feed import record_payments
from bot.negotiation import load_policy
from channels.console import console_router
from channels.console.rasa_api import RasaConversations
from tests.handoff.account_rows import (
    CONVERSATION, LOAN, agreement, fill_books, loan, payment, promise, verified_escalation,
)
from tests.conftest import PROJECT_ROOT, TODAY as DEMO_DAY
from tests.handoff.test_console_api import PASSWORD, FakeRasa, sign_in

TODAY = datetime.now(timezone.utc).date()  # the console reckons "today" in UTC


@pytest.fixture
def client(database, tmp_path, monkeypatch):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    with database.unit_of_work() as session:
        create_account(session, "ada", "Ada", "agent", PASSWORD)
        create_account(session, "bob", "Bob", "agent", PASSWORD)
        create_account(session, "sam", "Sam", "supervisor", PASSWORD)
    rasa = RasaConversations("http://rasa.test", "tok", transport=httpx.MockTransport(FakeRasa().handler))
    app = FastAPI()
    app.include_router(console_router(load_settings(), db=database, rasa=rasa))
    return TestClient(app)


def books(client: TestClient, escalation_id: int) -> dict:
    response = client.get(f"/console/api/escalations/{escalation_id}/books")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def full_books(database):
    with database.unit_of_work() as session:
        fill_books(session, TODAY)
    return database


def test_what_matters_first_is_where_the_current_plan_stands_and_the_open_promise(client, full_books):
    escalation_id = verified_escalation(full_books)
    sign_in(client, "ada")
    data = books(client, escalation_id)
    assert data["available"] is True and data["loan_ref"] == LOAN
    plan = data["summary"]["plan"]
    assert plan["text"] == "Plan AGR-20260901-CUR002 in arrears: paid CNY 400.00 of CNY 1,200.00 due"
    assert (plan["label"], plan["tone"]) == ("In arrears", "warn")
    assert plan["since"] == (TODAY - timedelta(days=9)).isoformat()
    promised = data["summary"]["promise"]
    assert promised["text"] == f"Promised CNY 500.00 by {(TODAY + timedelta(days=6)).isoformat()}"
    assert (promised["label"], promised["overdue"]) == ("Open", False)


def test_plans_come_newest_first_with_terms_next_instalment_and_standing(client, full_books):
    escalation_id = verified_escalation(full_books)
    sign_in(client, "ada")
    current, old = books(client, escalation_id)["plans"]
    assert current["reference"] == "AGR-20260901-CUR002" and old["reference"] == "AGR-20260301-OLD001"
    assert current["terms"] == "CNY 600.00 × 6 months" and current["total"] == "CNY 3,600.00"
    assert current["next"] == f"No. 3: CNY 600.00 on {(TODAY + timedelta(days=20)).isoformat()}"
    assert (current["label"], current["paid"], current["due"]) == ("In arrears", "CNY 400.00", "CNY 1,200.00")
    assert (old["label"], old["tone"]) == ("Broken", "bad")
    assert current["concessions"] == ["term extension"]


def test_a_plan_not_yet_reconciled_says_it_awaits_its_first_reconciliation(client, database):
    with database.unit_of_work() as session:
        loan(session)
        agreement(session, "AGR-20261127-NEW003", datetime(2026, 11, 27, 15))
    escalation_id = verified_escalation(database)
    sign_in(client, "ada")
    data = books(client, escalation_id)
    assert data["summary"]["plan"]["text"] == "Plan AGR-20261127-NEW003 awaiting first reconciliation (agreed 2026-11-27)"
    assert data["summary"]["plan"]["tone"] == "neutral"
    (plan,) = data["plans"]
    assert (plan["label"], plan["paid"], plan["due"]) == ("Awaiting first reconciliation", None, None)


def test_promises_come_newest_first_each_with_a_label_and_a_tone(client, full_books):
    escalation_id = verified_escalation(full_books)
    sign_in(client, "ada")
    promises = books(client, escalation_id)["promises"]
    assert [(p["amount"], p["label"], p["tone"]) for p in promises] == [
        ("CNY 500.00", "Open", "info"), ("CNY 300.00", "Partly kept", "warn"), ("CNY 300.00", "Kept", "good"),
        ("CNY 250.00", "Broken", "bad")]
    assert promises[1]["paid"] == "CNY 100.00" and promises[1]["due_on"] == (TODAY - timedelta(days=47)).isoformat()


def test_an_open_promise_whose_date_passed_says_so(client, database):
    with database.unit_of_work() as session:
        loan(session)
        promise(session, "200.00", TODAY - timedelta(days=2), "open", datetime(2026, 11, 1), paid="50.00")
    escalation_id = verified_escalation(database)
    sign_in(client, "ada")
    headline = books(client, escalation_id)["summary"]["promise"]
    assert headline["overdue"] is True
    assert headline["text"].endswith("CNY 50.00 paid so far: the date has passed, not yet reconciled")


def test_payments_come_latest_first_with_status_and_what_each_paid(client, full_books):
    escalation_id = verified_escalation(full_books)
    sign_in(client, "ada")
    data = books(client, escalation_id)
    assert [(p["reference"], p["label"], p["tone"]) for p in data["payments"]] == [
        ("PAY-3", "Succeeded", "good"), ("PAY-2", "Returned", "bad"), ("PAY-1", "Succeeded", "good")]
    latest, returned, first = data["payments"]
    assert returned["applied"] == []  # a returned payment pays nothing
    assert first["applied"] == [{"component": "fees", "amount": "CNY 50.00"},
                                {"component": "interest", "amount": "CNY 200.00"},
                                {"component": "principal", "amount": "CNY 350.00"}]
    assert latest["applied"][-1] == {"component": "unapplied credit", "amount": "CNY 50.00"}


def test_only_the_latest_payments_are_listed_with_how_many_there_are(client, database):
    with database.unit_of_work() as session:
        loan_row = loan(session)
        for n in range(25):
            payment(session, loan_row, f"P-{n:02d}", "10.00", date(2026, 1, 1) + timedelta(days=n),
                    PaymentStatus.SUCCEEDED)
    escalation_id = verified_escalation(database)
    sign_in(client, "ada")
    data = books(client, escalation_id)
    assert data["payments_total"] == 25 and len(data["payments"]) == 20
    assert data["payments"][0]["reference"] == "P-24" and data["payments"][-1]["reference"] == "P-05"


def test_state_changes_come_latest_first_with_their_cause(client, full_books):
    escalation_id = verified_escalation(full_books)
    sign_in(client, "ada")
    changes = books(client, escalation_id)["changes"]
    assert changes[0]["subject"] == "Plan AGR-20260901-CUR002"
    assert (changes[0]["from"]["label"], changes[0]["to"]["label"]) == ("On track", "In arrears")
    assert changes[0]["cause"] == "rule: lifecycle.plan_arrears_after_days@2026.1"
    assert changes[0]["on"] == (TODAY - timedelta(days=9)).isoformat()
    assert (changes[1]["subject"], changes[1]["to"]["label"], changes[1]["cause"]) == (
        "Payment PAY-2", "Returned", "payment feed: PAY-2")
    # A promise is named by its row id in the events; the console says which promise that is.
    assert changes[2]["subject"] == f"Promise of CNY 300.00 due {(TODAY - timedelta(days=47)).isoformat()}"
    assert changes[-1]["from"] is None and changes[-1]["to"]["label"] == "Pending first payment"
    assert len(changes) == 4


def test_money_is_written_in_the_loans_currency(client, database):
    with database.unit_of_work() as session:
        loan(session, currency="USD")
        promise(session, "1234.5", TODAY + timedelta(days=3), "open", datetime(2026, 11, 1))
    escalation_id = verified_escalation(database)
    sign_in(client, "ada")
    assert books(client, escalation_id)["promises"][0]["amount"] == "USD 1,234.50"


def test_a_loan_with_no_history_has_empty_lists_not_errors(client, database):
    with database.unit_of_work() as session:
        loan(session)
    escalation_id = verified_escalation(database)
    sign_in(client, "ada")
    data = books(client, escalation_id)
    assert data["summary"] == {"plan": None, "promise": None}
    assert (data["plans"], data["promises"], data["payments"], data["changes"]) == ([], [], [], [])


def test_an_unverified_borrower_shows_no_account(client, full_books):
    escalation_id = verified_escalation(full_books, loan_ref=None)
    sign_in(client, "ada")
    data = books(client, escalation_id)
    assert data["available"] is False and "Not verified" in data["why"] and "plans" not in data


def test_a_loan_missing_from_the_books_is_said_plainly(client, database):
    escalation_id = verified_escalation(database, loan_ref="HCF-0000")
    sign_in(client, "ada")
    assert books(client, escalation_id) == {"available": False, "loan_ref": "HCF-0000",
                                            "why": "No loan HCF-0000 in the books."}


def test_only_who_may_read_the_escalation_reads_the_books(client, full_books):
    escalation_id = verified_escalation(full_books)
    path = f"/console/api/escalations/{escalation_id}/books"
    assert client.get(path).status_code == 401  # signed out
    csrf = sign_in(client, "ada")
    assert client.get(path).status_code == 200  # waiting: any agent may look before claiming
    assert client.post(f"/console/api/escalations/{escalation_id}/claim", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get(path).status_code == 200
    bob = TestClient(client.app)
    sign_in(bob, "bob")
    refused = bob.get(path)
    assert refused.status_code == 403 and "handled by ada" in refused.json()["detail"]
    assert "CNY" not in refused.text and "PAY-" not in refused.text
    assert bob.get("/console/api/escalations/999999/books").status_code == 404
    sam = TestClient(client.app)
    sign_in(sam, "sam")
    assert sam.get(path).status_code == 200  # supervisors see every conversation


def test_a_signed_out_session_cannot_read_the_books(client, full_books):
    escalation_id = verified_escalation(full_books)
    csrf = sign_in(client, "ada")
    kept = client.cookies.get("console_session")
    assert client.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    client.cookies.clear()
    client.cookies.set("console_session", kept)
    assert client.get(f"/console/api/escalations/{escalation_id}/books").status_code == 401


def test_markup_in_a_payment_note_comes_back_as_text_and_never_in_the_page(client, full_books):
    escalation_id = verified_escalation(full_books)
    sign_in(client, "ada")
    response = client.get(f"/console/api/escalations/{escalation_id}/books")
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["payments"][1]["note"] == "<script>window.__pwned=1</script> bank reversal"
    page = client.get(f"/console/conversations/{escalation_id}")
    assert "__pwned" not in page.text  # the page is a shell; console.js inserts the note with textContent
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_the_books_never_show_the_conversation_id_the_rows_carry(client, full_books):
    escalation_id = verified_escalation(full_books)
    sign_in(client, "ada")
    response = client.get(f"/console/api/escalations/{escalation_id}/books")
    assert CONVERSATION[4:] not in response.text


def test_an_agreement_with_unreadable_terms_still_lists(database):
    with database.unit_of_work() as session:
        loan(session)
        row = agreement(session, "AGR-20260101-BAD004", datetime(2026, 1, 1), standing=("active", "0.00", "0.00"))
        row.terms_json = "{not json"
        session.flush()
        (plan,) = account_books(session, LOAN, TODAY).plans
    assert plan.reference == "AGR-20260101-BAD004" and plan.monthly is None and plan.next_instalment is None
    assert plan.standing.state == "active"


def test_the_books_read_what_the_payments_feed_and_reconciliation_wrote(client, demo_database):
    """Not hand-made rows: a plan signed as the bot signs it, a payment through the feed, a return."""
    policy = load_policy(PROJECT_ROOT / "policy.yml")
    now = datetime.combine(DEMO_DAY, datetime.min.time()) + timedelta(hours=10)
    first_due = DEMO_DAY + timedelta(days=7)
    terms = {"concessions": ["spread_arrears"], "monthly": "400.00", "months": 2, "total_paid": "800.00",
             "authority": "bot", "rule": "test", "policy_version": policy.version,
             "schedule": [{"number": n, "due": (first_due + timedelta(days=30 * (n - 1))).isoformat(),
                           "amount": "400.00"} for n in (1, 2)]}
    with demo_database.unit_of_work() as session:
        offer_id = record_offer(session, conversation_id=CONVERSATION, loan_reference="HCF-1001", terms=terms, now=now)
        reference = sign_agreement(session, conversation_id=CONVERSATION, loan_reference="HCF-1001",
                                   borrower_name="Alex", language="en", terms=terms, offer_record_id=offer_id,
                                   record={"conversation_id": CONVERSATION}, acceptance_text="yes",
                                   now=now).agreement.reference
    paid_on = first_due - timedelta(days=1)
    row = {"payment_id": "GF-1", "loan_reference": "HCF-1001", "amount": "400.00", "paid_on": paid_on.isoformat(),
           "status": "credited"}
    record_payments(demo_database, policy, [(1, row)], now=now, today=paid_on)
    escalation_id = verified_escalation(demo_database, loan_ref="HCF-1001")
    sign_in(client, "ada")
    data = books(client, escalation_id)
    assert data["summary"]["plan"]["label"] == "On track"
    assert data["summary"]["plan"]["text"].startswith(f"Plan {reference} on track: paid CNY 400.00 of ")
    latest = data["payments"][0]
    assert (latest["reference"], latest["label"]) == ("GF-1", "Succeeded") and latest["applied"]
    assert all("_" not in share["component"] for p in data["payments"] for share in p["applied"])
    assert data["payments"][1]["reference"].startswith("#")  # no lender id: named as reconciliation names it
    assert (data["changes"][0]["subject"], data["changes"][0]["to"]["label"], data["changes"][0]["cause"]) == (
        f"Plan {reference}", "On track", "payment: GF-1")

    returned = {**row, "status": "returned", "note": "<b>R01</b> insufficient funds"}
    record_payments(demo_database, policy, [(1, returned)], now=now, today=paid_on + timedelta(days=1))
    data = books(client, escalation_id)
    latest = data["payments"][0]
    assert (latest["label"], latest["applied"]) == ("Returned", [])  # re-flowed: it pays nothing now
    assert any(c["subject"] == "Payment GF-1" and c["to"]["label"] == "Returned" for c in data["changes"])
    assert CONVERSATION[4:] not in json.dumps(data)
