"""The account panel's Outreach section: where outreach stands, the next and the latest contacts in
words, and an agent's pause and resume, for whoever may read the escalation and nobody else."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.config import load_settings
from bot.handoff.accounts import create_account
from bot.lifecycle.models import AccountEvent
from bot.outreach.facts import contact_facts
from bot.outreach.models import AGENT_PAUSE, BREATHING_SPACE, DROPPED, OutreachHold
from channels.console import console_router
from channels.console.rasa_api import RasaConversations
from tests.handoff.account_rows import CONVERSATION, LOAN, contact, fill_outreach, loan, verified_escalation
from tests.handoff.test_console_api import PASSWORD, FakeRasa, sign_in

NOW = datetime.now(timezone.utc).replace(tzinfo=None)


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


@pytest.fixture
def followed_up(database):
    with database.unit_of_work() as session:
        loan(session).borrower.jurisdiction = "UK"
        fill_outreach(session, NOW)
    return database


def outreach(client: TestClient, escalation_id: int) -> dict:
    response = client.get(f"/console/api/escalations/{escalation_id}/books")
    assert response.status_code == 200, response.text
    return response.json()["outreach"]


def post(client: TestClient, escalation_id: int, action: str, csrf: str | None, **body) -> httpx.Response:
    headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
    return client.post(f"/console/api/escalations/{escalation_id}/outreach/{action}", json=body, headers=headers)


def holds(database) -> list[OutreachHold]:
    with database.unit_of_work() as session:
        rows = session.execute(select(OutreachHold).order_by(OutreachHold.id)).scalars().all()
        session.expunge_all()
        return rows


def hold_in_force(database) -> str | None:
    """What the contact rules themselves see now."""
    with database.unit_of_work() as session:
        return contact_facts(session, loan_reference=LOAN, channel="telegram", conversation_id=CONVERSATION,
                             now=datetime.now(timezone.utc)).hold


def test_the_section_says_outreach_is_active_then_lists_the_next_contacts_in_local_time_and_utc(client, followed_up):
    escalation_id = verified_escalation(followed_up)
    sign_in(client, "ada")
    data = outreach(client, escalation_id)
    assert (data["status"]["text"], data["status"]["label"], data["status"]["tone"]) == (
        "Outreach active", "Active", "good")
    assert "refuse every proactive message" in data["status"]["notes"][-1]  # the escalation is open
    assert data["scheduled_total"] == 2
    soon, later = data["next"]
    assert (soon["reason"], soon["channel"], soon["retried"]) == (
        "Reminder: promise due", "Telegram", True)
    due = NOW.replace(minute=0, second=0, microsecond=0) + timedelta(hours=5)
    shanghai = due + timedelta(hours=8)  # no DST in China
    assert soon["local"] == f"{shanghai:%Y-%m-%d %H:%M} Asia/Shanghai" and soon["utc"] == f"{due:%Y-%m-%d %H:%M} UTC"
    assert (later["reason"], later["channel"], later["local"]) == ("Reminder: instalment due", "Web chat", None)


def test_the_latest_contacts_say_what_became_of_each_and_the_rule_in_words(client, followed_up):
    escalation_id = verified_escalation(followed_up)
    sign_in(client, "ada")
    latest = outreach(client, escalation_id)["latest"]
    assert [(c["label"], c["why"]) for c in latest] == [
        ("Refused, moved later", "quiet hours (CN rules)"),
        ("Refused, dropped", "the conversation was with a person (handoff open)"),
        ("Sent", None),
        ("Dropped, no longer due", "the promise or plan changed before it was due"),
    ]
    assert latest[0]["moved_to"]["utc"] == outreach(client, escalation_id)["next"][0]["utc"]
    assert latest[1]["reason"] == "Follow-up: missed promise" and latest[1]["tone"] == "bad"


def test_a_contact_moved_by_a_rule_then_no_longer_due_reads_as_both(client, database):
    with database.unit_of_work() as session:
        loan(session)
        contact(session, "promise:9:before:1", "promise_reminder", NOW - timedelta(hours=1), status=DROPPED,
                attempts=[(NOW - timedelta(hours=3), "refused", "cap:per_day")], outcome="no longer due")
    escalation_id = verified_escalation(database)
    sign_in(client, "ada")
    latest = outreach(client, escalation_id)["latest"]
    assert [(c["label"], c["why"]) for c in latest] == [
        ("Dropped, no longer due", "the promise or plan changed before it was due"),
        ("Refused, moved later", "daily contact limit reached")]


def test_a_loan_never_followed_up_has_empty_lists_and_is_active(client, database):
    with database.unit_of_work() as session:
        loan(session)
    escalation_id = verified_escalation(database)
    sign_in(client, "ada")
    data = outreach(client, escalation_id)
    assert (data["next"], data["latest"], data["scheduled_total"]) == ([], [], 0)
    assert data["status"]["text"] == "Outreach active" and data["paused_by_agent"] is False


def test_an_agent_pauses_outreach_with_a_note_and_the_rules_then_refuse(client, followed_up):
    escalation_id = verified_escalation(followed_up)
    csrf = sign_in(client, "ada")  # waiting, not claimed: whoever may read the escalation may pause
    assert post(client, escalation_id, "pause", csrf, note="Borrower in hospital until March").status_code == 200
    (hold,) = holds(followed_up)
    assert (hold.kind, hold.created_by, hold.ends_at, hold.lifted_at, hold.note) == (
        AGENT_PAUSE, "ada", None, None, "Borrower in hospital until March")
    assert hold_in_force(followed_up) == AGENT_PAUSE
    data = outreach(client, escalation_id)
    assert data["status"]["text"] == "Outreach paused by ada until lifted" and data["paused_by_agent"] is True
    assert "Borrower in hospital until March" in data["status"]["notes"][0]
    change = client.get(f"/console/api/escalations/{escalation_id}/books").json()["changes"][0]
    assert (change["subject"], change["from"]["label"], change["to"]["label"], change["cause"]) == (
        "Outreach", "Active", "Paused", "operator: ada")
    again = post(client, escalation_id, "pause", csrf, note="twice")
    assert again.status_code == 409 and "already paused by ada" in again.json()["detail"]
    assert post(client, escalation_id, "pause", csrf, note="  ").status_code == 400  # a pause says why


def test_resume_lifts_the_agents_pause_and_says_so_in_the_state_changes(client, followed_up):
    escalation_id = verified_escalation(followed_up)
    csrf = sign_in(client, "ada")
    assert post(client, escalation_id, "pause", csrf, note="call first").status_code == 200
    bob = TestClient(client.app)
    bob_csrf = sign_in(bob, "bob")
    assert post(bob, escalation_id, "resume", bob_csrf).status_code == 200  # any agent who may read it
    (hold,) = holds(followed_up)
    assert hold.lifted_at is not None and hold_in_force(followed_up) is None
    assert outreach(client, escalation_id)["status"]["text"] == "Outreach active"
    with followed_up.unit_of_work() as session:
        events = session.execute(select(AccountEvent).where(AccountEvent.subject == "outreach")
                                 .order_by(AccountEvent.id)).scalars().all()
        assert [(e.from_state, e.to_state, e.cause, e.cause_ref) for e in events] == [
            ("active", "paused", "operator", "ada"), ("paused", "active", "operator", "bob")]
        assert json.loads(events[0].detail)["note"] == "call first"
    refused = post(client, escalation_id, "resume", csrf)
    assert refused.status_code == 409 and "not paused" in refused.json()["detail"]


def test_a_breathing_space_is_shown_first_and_is_not_lifted_by_resume(client, followed_up):
    escalation_id = verified_escalation(followed_up)
    csrf = sign_in(client, "ada")
    assert post(client, escalation_id, "breathing-space", csrf).status_code == 403  # supervisors only
    assert post(client, escalation_id, "pause", csrf, note="asked for time").status_code == 200
    sam = TestClient(client.app)
    sam_csrf = sign_in(sam, "sam")
    before = datetime.now(timezone.utc).date()
    recorded = post(sam, escalation_id, "breathing-space", sam_csrf)
    after = datetime.now(timezone.utc).date()  # the route reads the real clock (it may cross midnight)
    assert recorded.status_code == 200, recorded.text
    ends = recorded.json()["ends_at"][:10]
    assert ends in {(day + timedelta(days=60)).isoformat() for day in (before, after)}  # UK: 60 days
    status = outreach(client, escalation_id)["status"]
    assert status["text"] == f"Breathing space until {ends}" and status["label"] == "Breathing space"
    assert any(note.startswith("Also paused by ada") for note in status["notes"])
    assert post(client, escalation_id, "resume", csrf).status_code == 200
    assert hold_in_force(followed_up) == BREATHING_SPACE
    assert outreach(client, escalation_id)["status"]["text"] == f"Breathing space until {ends}"


def test_pausing_needs_the_csrf_token(client, followed_up):
    escalation_id = verified_escalation(followed_up)
    sign_in(client, "ada")
    assert post(client, escalation_id, "pause", None, note="x").status_code == 403
    assert post(client, escalation_id, "pause", "wrong-token", note="x").status_code == 403
    assert post(client, escalation_id, "resume", None).status_code == 403
    assert holds(followed_up) == []


def test_a_signed_out_session_cannot_pause(client, followed_up):
    escalation_id = verified_escalation(followed_up)
    assert post(client, escalation_id, "pause", "anything", note="x").status_code == 401  # never signed in
    csrf = sign_in(client, "ada")
    kept = client.cookies.get("console_session")
    assert client.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    client.cookies.clear()
    client.cookies.set("console_session", kept)
    assert post(client, escalation_id, "pause", csrf, note="x").status_code == 401
    assert holds(followed_up) == []


def test_an_agent_who_may_not_read_the_escalation_cannot_pause_or_resume(client, followed_up):
    escalation_id = verified_escalation(followed_up)
    csrf = sign_in(client, "ada")
    assert client.post(f"/console/api/escalations/{escalation_id}/claim", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert post(client, escalation_id, "pause", csrf, note="mine").status_code == 200
    bob = TestClient(client.app)
    bob_csrf = sign_in(bob, "bob")
    for action, body in (("pause", {"note": "x"}), ("resume", {})):
        refused = post(bob, escalation_id, action, bob_csrf, **body)
        assert refused.status_code == 403 and "handled by ada" in refused.json()["detail"]
    assert post(bob, 999999, "pause", bob_csrf, note="x").status_code == 404
    assert hold_in_force(followed_up) == AGENT_PAUSE and len(holds(followed_up)) == 1


def test_an_unverified_borrower_has_no_outreach_to_pause(client, followed_up):
    escalation_id = verified_escalation(followed_up, loan_ref=None)
    csrf = sign_in(client, "ada")
    refused = post(client, escalation_id, "pause", csrf, note="x")
    assert refused.status_code == 409 and "not verified" in refused.json()["detail"]
    assert holds(followed_up) == []


def test_markup_in_a_pause_note_comes_back_as_text_and_never_in_the_page(client, followed_up):
    escalation_id = verified_escalation(followed_up)
    csrf = sign_in(client, "ada")
    note = "<script>window.__pwned=1</script> no calls"
    assert post(client, escalation_id, "pause", csrf, note=note).status_code == 200
    response = client.get(f"/console/api/escalations/{escalation_id}/books")
    assert response.headers["content-type"].startswith("application/json")
    assert note in response.json()["outreach"]["status"]["notes"][0]
    page = client.get(f"/console/conversations/{escalation_id}")
    assert "__pwned" not in page.text  # a shell: console.js inserts the note with textContent
    assert CONVERSATION[4:] not in response.text
