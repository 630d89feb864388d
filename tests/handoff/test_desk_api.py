"""The desk's HTTP API (contract items 1-7, 9, 10) through FastAPI's TestClient on a real SQLite
database: roles and CSRF refused on the server, bad input answered clearly, the conversation id never
shown, API keys only (never cookies) on /console/api/v1."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from bot.agreements.models import OfferRecord
from bot.handoff.accounts import create_account, disable_account
from bot.handoff.models import Escalation
from bot.handoff.queue import EscalationQueue
from tests.handoff.account_rows import CONVERSATION, LOAN, fill_books
from tests.handoff.test_console_api import client, escalation, fake_rasa, sign_in  # noqa: F401 - fixtures

NOW = datetime.now(timezone.utc).replace(tzinfo=None)


@pytest.fixture
def desk(client):  # noqa: F811 - the fixture imported above
    """Signed-in clients for Ada (agent), Bob (agent) and Sam (supervisor), each with its CSRF header."""
    people = {}
    for name in ("ada", "bob", "sam"):
        browser = TestClient(client.app)
        people[name] = (browser, {"X-CSRF-Token": sign_in(browser, name)})
    return people


def verified_escalation(database, *, language: str = "zh", arrears: str | None = "13723.63",
                        conversation: str = CONVERSATION, created: datetime | None = None) -> int:
    summary = {"verified": True, "language": language, "loan_ref": LOAN, "currency": "CNY",
               "hardship_cause": "job_loss", "monthly_income": "5000", "monthly_costs": "3200.5",
               "last_messages": ["我失业了"]}
    if arrears:
        summary["arrears"] = arrears
    with database.unit_of_work() as session:
        opened, _ = EscalationQueue(session).open(conversation_id=conversation, channel="telegram", reason="dispute_debt",
                                                  priority=2, summary=summary, language=language,
                                                  now=created or datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=20))
        return opened.id


def test_agent_language_is_kept_and_checked(desk):
    ada, headers = desk["ada"]
    assert ada.get("/console/api/me").json()["language"] == "en"
    assert ada.put("/console/api/me/language", json={"language": "zh"}).status_code == 403  # no CSRF header
    refused = ada.put("/console/api/me/language", json={"language": "fr"}, headers=headers)
    assert refused.status_code == 400 and refused.json() == {"detail": "language is en or zh"}
    assert ada.put("/console/api/me/language", json={"language": "zh"}, headers=headers).json() == {"ok": True}
    assert ada.get("/console/api/me").json()["language"] == "zh"


def test_transfer_targets_are_the_active_accounts(desk, database):
    with database.unit_of_work() as session:
        create_account(session, "gone", "Gone", "agent", "pw-12345678")
        disable_account(session, "gone")
    agents = desk["ada"][0].get("/console/api/agents").json()["agents"]
    assert [a["username"] for a in agents] == ["ada", "bob", "sam"]
    assert agents[2] == {"username": "sam", "display_name": "Sam", "role": "supervisor"}


def test_queue_rows_carry_name_sla_and_words_and_bad_filters_are_refused(desk, database):
    with database.unit_of_work() as session:
        fill_books(session, NOW.date())
    verified = verified_escalation(database)
    unverified = escalation(database, "web:other")
    with database.unit_of_work() as session:
        EscalationQueue(session).get(unverified).last_borrower_text = "x" * 500 + " <script>"
    ada = desk["ada"][0]
    items = {i["id"]: i for i in ada.get("/console/api/queue").json()["items"]}
    assert items[verified]["borrower_name"] == "Wang Fang" and items[unverified]["borrower_name"] is None
    sla = items[verified]["sla"]  # priority 2: 15 minutes, opened 20 minutes ago
    assert sla["target_minutes"] == 15 and sla["breached"] is True and sla["met_at"] is None
    assert -420 <= sla["remaining_seconds"] <= -290 and sla["due_at"].endswith("Z")
    assert len(items[unverified]["last_borrower_text"]) == 280 and items[unverified]["unread"] == 0
    for key in ("assistant_resumed_at", "callback_at", "reopened_at", "wait_notice_at", "satisfaction"):
        assert key in items[verified]
    assert [i["id"] for i in ada.get("/console/api/queue", params={"q": "wang"}).json()["items"]] == [verified]
    assert [i["id"] for i in ada.get("/console/api/queue", params={"q": f"#{unverified}"}).json()["items"]] == [
        unverified]
    assert ada.get("/console/api/queue", params={"q": "' OR 1=1 --"}).json()["items"] == []
    assert ada.get("/console/api/queue", params={"q": "🙂" * 300}).json()["items"] == []
    assert ada.get("/console/api/queue", params={"priority": "9"}).status_code == 400
    assert ada.get("/console/api/queue", params={"language": "fr"}).status_code == 400
    assert ada.get("/console/api/queue", params={"min_age_minutes": "-1"}).status_code == 400
    assert ada.get("/console/api/queue", params={"view": "everything"}).status_code == 400
    assert [i["id"] for i in ada.get("/console/api/queue", params={"priority": "2"}).json()["items"]] == [verified]
    assert CONVERSATION not in ada.get("/console/api/queue").text


def test_release_transfer_and_reopen_with_roles_and_csrf(desk, database, fake_rasa):  # noqa: F811
    escalation_id = escalation(database)
    (ada, ada_h), (bob, bob_h), (sam, sam_h) = desk["ada"], desk["bob"], desk["sam"]
    base = f"/console/api/escalations/{escalation_id}"
    assert ada.post(f"{base}/claim", headers=ada_h).status_code == 200
    assert bob.post(f"{base}/release", headers=bob_h).status_code == 403  # Ada's, not Bob's
    assert bob.post(f"{base}/transfer", json={"to": "bob"}, headers=bob_h).status_code == 403
    assert ada.post(f"{base}/transfer", json={"to": "bob"}).status_code == 403  # no CSRF header
    assert ada.post(f"{base}/transfer", json={"to": "nobody"}, headers=ada_h).status_code == 400
    assert ada.post(f"{base}/transfer", json={}, headers=ada_h).status_code == 400
    assert ada.post(f"{base}/transfer", json={"to": "Bob"}, headers=ada_h).status_code == 200
    assert ada.post(f"{base}/release", headers=ada_h).status_code == 403  # not hers any more
    detail = bob.get(base).json()
    assert detail["claimed_by"] == "bob" and detail["notes"][-1]["text"] == "transferred from ada to bob"
    assert bob.post(f"{base}/release", headers=bob_h).status_code == 200
    assert [i["id"] for i in ada.get("/console/api/queue").json()["items"]] == [escalation_id]
    assert sam.post(f"{base}/transfer", json={"to": "ada"}, headers=sam_h).status_code == 200  # assigns a waiting one
    assert ada.post(f"{base}/close", json={"outcome": "message_taken"}, headers=ada_h).status_code == 200
    assert bob.post(f"{base}/reopen", headers=bob_h).status_code == 403
    assert ada.post(f"{base}/reopen", headers=ada_h).status_code == 200
    assert fake_rasa.requests[-1][1:] == ("/conversations/conv-1/tracker/events", {"token": "tok"}, [{"event": "pause"}])
    assert ada.post(f"{base}/reopen", headers=ada_h).status_code == 409  # open already
    with database.unit_of_work() as session:
        reopened = EscalationQueue(session).get(escalation_id)
        assert (reopened.status, reopened.outcome, reopened.reopened_at is not None) == ("waiting", None, True)
        EscalationQueue(session).close(reopened, "message_taken", NOW)
    escalation(database)  # the borrower escalated again meanwhile
    refused = sam.post(f"{base}/reopen", headers=sam_h)
    assert refused.status_code == 409 and "already has an open escalation" in refused.json()["detail"]


def test_a_reopen_rasa_cannot_pause_is_undone(desk, database, fake_rasa):  # noqa: F811
    escalation_id = escalation(database)
    sam, headers = desk["sam"]
    sam.post(f"/console/api/escalations/{escalation_id}/claim", headers=headers)
    sam.post(f"/console/api/escalations/{escalation_id}/close", json={"outcome": "message_taken"}, headers=headers)
    fake_rasa.failing_paths.add("/conversations/conv-1/tracker/events")
    assert sam.post(f"/console/api/escalations/{escalation_id}/reopen", headers=headers).status_code == 502
    with database.unit_of_work() as session:
        kept = EscalationQueue(session).get(escalation_id)
        assert (kept.status, kept.outcome, kept.reopened_at) == ("closed", "message_taken", None)


def test_the_first_reply_stops_the_sla_clock(desk, database):
    escalation_id = escalation(database)
    ada, headers = desk["ada"]
    ada.post(f"/console/api/escalations/{escalation_id}/claim", headers=headers)
    assert ada.post(f"/console/api/escalations/{escalation_id}/reply", json={"text": "Hi"},
                    headers=headers).status_code == 200
    sla = ada.get(f"/console/api/escalations/{escalation_id}").json()["sla"]
    assert sla["met_at"] is not None and sla["met_at"].endswith("Z")


def test_canned_replies_are_managed_by_supervisors_and_validated(desk):
    (ada, ada_h), (sam, sam_h) = desk["ada"], desk["sam"]
    reply = {"language": "en", "shortcut": "hello", "title": "Hi", "body": "Hello {name}"}
    assert ada.post("/console/api/canned", json=reply, headers=ada_h).status_code == 403
    assert sam.post("/console/api/canned", json=reply).status_code == 403  # no CSRF header
    for bad, field in ((dict(reply, shortcut="Hello!"), "shortcut"), (dict(reply, shortcut="x" * 33), "shortcut"),
                       (dict(reply, title="t" * 101), "title"), (dict(reply, body="b" * 2001), "body"),
                       (dict(reply, body="   "), "body"), (dict(reply, language="fr"), "language")):
        refused = sam.post("/console/api/canned", json=bad, headers=sam_h)
        assert refused.status_code == 400 and refused.json()["detail"].startswith(field)
    created = sam.post("/console/api/canned", json=reply, headers=sam_h)
    assert created.status_code == 200
    assert sam.post("/console/api/canned", json=reply, headers=sam_h).status_code == 409
    assert sam.post("/console/api/canned", json=dict(reply, language="zh"), headers=sam_h).status_code == 200
    reply_id = created.json()["id"]
    edited = sam.put(f"/console/api/canned/{reply_id}", json=dict(reply, title="Greeting 👋 <b>"), headers=sam_h)
    assert edited.json()["title"] == "Greeting 👋 <b>"
    assert [r["title"] for r in ada.get("/console/api/canned", params={"language": "en"}).json()["replies"]] == [
        "Greeting 👋 <b>"]
    assert ada.delete(f"/console/api/canned/{reply_id}", headers=ada_h).status_code == 403
    assert sam.delete(f"/console/api/canned/{reply_id}", headers=sam_h).status_code == 200
    assert sam.delete(f"/console/api/canned/{reply_id}", headers=sam_h).status_code == 404
    assert ada.get("/console/api/canned", params={"language": "en"}).json()["replies"] == []
    assert sam.post("/console/api/canned", json=reply, headers=sam_h).status_code == 200  # the shortcut is free again
    assert ada.get("/console/api/canned", params={"language": "xx"}).status_code == 400


def test_canned_replies_are_filled_from_the_account_in_zh_and_with_placeholders_in_en(desk, database):
    (ada, _), (sam, sam_h) = desk["ada"], desk["sam"]
    for language, body in (("zh", "{name}您好，您逾期 {arrears}，下次还款日 {next_due}。{other}"),
                           ("en", "Hello {name}, you owe {arrears}; next due {next_due}.")):
        sam.post("/console/api/canned", json={"language": language, "shortcut": "hi", "title": "Hi", "body": body},
                 headers=sam_h)
    with database.unit_of_work() as session:
        fill_books(session, NOW.date())  # the current plan's next instalment is due in 20 days
    verified = verified_escalation(database, language="zh")
    unverified = escalation(database, "web:other")
    [zh] = ada.get(f"/console/api/escalations/{verified}/canned").json()["replies"]
    due = NOW.date() + timedelta(days=20)
    assert zh["text"] == f"Wang Fang您好，您逾期 ¥13,723.63，下次还款日 {due.year}年{due.month}月{due.day}日。{{other}}"
    [en] = ada.get(f"/console/api/escalations/{unverified}/canned").json()["replies"]
    assert en["text"] == "Hello [name unknown], you owe [arrears unknown]; next due [next due date unknown]."


def test_detail_has_the_borrowers_context_in_their_own_words(desk, database, fake_rasa):  # noqa: F811
    with database.unit_of_work() as session:
        fill_books(session, NOW.date())
    earlier = verified_escalation(database, conversation="telegram:1")
    with database.unit_of_work() as session:
        queue = EscalationQueue(session)
        queue.close(queue.get(earlier), "message_taken", NOW - timedelta(minutes=30))
        terms = {"monthly": "600.00", "months": 6, "first_payment": "2026-12-05", "total_paid": "3600.00",
                 "waived_fees": "0.00", "concessions": ["term_extension"], "authority": "agent",
                 "rule": "affordability.share", "policy_version": "2026.12-4"}
        session.add(OfferRecord(conversation_id=CONVERSATION, loan_reference=LOAN, concessions="term_extension",
                                monthly=terms["monthly"], months=6, total_paid=terms["total_paid"], authority="agent",
                                rule=terms["rule"], policy_version=terms["policy_version"],
                                terms_json=json.dumps(terms), shown_at=NOW - timedelta(minutes=25)))
    escalation_id = verified_escalation(database)
    fake_rasa.events[:] = [
        {"event": "user", "text": "我上个月被裁员了，现在没有收入 😢", "timestamp": 1.0},
        {"event": "slot", "name": "hardship_cause", "value": "job_loss", "timestamp": 2.0},
        {"event": "slot", "name": "verified", "value": True, "timestamp": 1764000000.0},
        {"event": "user", "text": "能少还一点吗", "timestamp": 3.0},
        {"event": "slot", "name": "hardship_cause", "value": "job_loss", "timestamp": 4.0},  # unchanged
    ]
    sam = desk["sam"][0]
    detail = sam.get(f"/console/api/escalations/{escalation_id}").json()
    context = detail["context"]
    assert context["name"] == "Wang Fang" and context["channel_label_key"] == "telegram"
    assert context["hardship"] == {"cause": "job_loss", "said": "我上个月被裁员了，现在没有收入 😢", "temporary": None}
    assert context["arrears"] == {"amount": "13723.63", "currency": "CNY"}
    assert context["income"] == {"amount": "5000.00", "currency": "CNY"}
    assert context["costs"] == {"amount": "3200.50", "currency": "CNY"}
    assert context["surplus"]["currency"] == "CNY" and context["verified_at"] == "2025-11-24T16:00:00Z"
    [offer] = context["offers"]
    assert offer["summary_rows"] == [["monthly", "600.00 CNY"], ["months", "6"], ["first_payment", "2026-12-05"],
                                     ["total_paid", "3600.00 CNY"], ["concessions", "term_extension"]]
    assert (offer["rule"], offer["policy_version"], offer["authority"]) == ("affordability.share", "2026.12-4", "agent")
    assert context["history"] == [{"ref": f"#{earlier}", "reason": "dispute_debt", "outcome": "message_taken",
                                   "status": "closed", "created_at": context["history"][0]["created_at"],
                                   "closed_at": context["history"][0]["closed_at"]}]
    assert [e["id"] for e in detail["transcript"]] == [1, 4]
    assert CONVERSATION not in json.dumps(detail) and "telegram:1" not in json.dumps(detail)


def test_the_transcript_after_an_id_has_only_newer_entries(desk, database, fake_rasa):  # noqa: F811
    escalation_id = escalation(database)
    fake_rasa.events.append({"event": "user", "text": "still there?", "timestamp": 3.0})
    ada = desk["ada"][0]
    newer = ada.get(f"/console/api/escalations/{escalation_id}/transcript", params={"after": 2}).json()
    assert newer == {"entries": [{"id": 3, "speaker": "borrower", "text": "still there?", "at": 3.0, "intent": None}],
                     "paused": True}
    assert len(ada.get(f"/console/api/escalations/{escalation_id}/transcript").json()["entries"]) == 3
    assert ada.get(f"/console/api/escalations/{escalation_id}/transcript", params={"after": "x"}).status_code == 422


def test_api_keys_are_created_by_supervisors_used_with_scopes_and_revoked(desk, database):
    (ada, ada_h), (sam, sam_h) = desk["ada"], desk["sam"]
    escalation_id = verified_escalation(database)
    assert ada.post("/console/api/keys", json={"name": "CRM", "scopes": ["escalations:read"]},
                    headers=ada_h).status_code == 403
    assert ada.get("/console/api/keys").status_code == 403
    assert sam.post("/console/api/keys", json={"name": "CRM", "scopes": ["admin"]}, headers=sam_h).status_code == 400
    assert sam.post("/console/api/keys", json={"name": "", "scopes": ["escalations:read"]},
                    headers=sam_h).status_code == 400
    reader = sam.post("/console/api/keys", json={"name": "CRM", "scopes": ["escalations:read"]}, headers=sam_h).json()
    writer = sam.post("/console/api/keys", json={"name": "CRM notes", "scopes": ["escalations:read",
                                                                                 "escalations:write"]},
                      headers=sam_h).json()
    assert reader["key"].startswith(f"dk_{reader['prefix']}_") and len(reader["key"]) > 50
    listed = sam.get("/console/api/keys").json()["keys"]
    assert all("key" not in k and "key_hash" not in k for k in listed) and reader["key"] not in json.dumps(listed)
    api = TestClient(sam.app)

    def bearer(key: str) -> dict:
        return {"Authorization": f"Bearer {key}"}

    items = api.get("/console/api/v1/escalations", headers=bearer(reader["key"])).json()["items"]
    assert [i["ref"] for i in items] == [f"#{escalation_id}"] and items[0]["borrower_name"] is None
    assert "summary" not in items[0] and CONVERSATION not in json.dumps(items)
    assert api.get("/console/api/v1/escalations", params={"status": "closed"},
                   headers=bearer(reader["key"])).json() == {"items": []}
    assert api.get("/console/api/v1/escalations", params={"q": "#" + str(escalation_id), "priority": 2},
                   headers=bearer(reader["key"])).json()["items"][0]["id"] == escalation_id
    assert api.get("/console/api/v1/escalations", params={"priority": 9},
                   headers=bearer(reader["key"])).status_code == 422
    assert api.get("/console/api/v1/escalations/99999", headers=bearer(reader["key"])).status_code == 404
    detail = api.get(f"/console/api/v1/escalations/{escalation_id}", headers=bearer(reader["key"]))
    assert detail.status_code == 200 and detail.json()["context"]["arrears"]["amount"] == "13723.63"
    assert CONVERSATION not in detail.text
    note = {"text": "Called from the CRM ✅"}
    assert api.post(f"/console/api/v1/escalations/{escalation_id}/notes", json=note,
                    headers=bearer(reader["key"])).status_code == 403  # read scope only
    assert api.post(f"/console/api/v1/escalations/{escalation_id}/notes", json=note,
                    headers=bearer(writer["key"])).status_code == 200
    assert api.post(f"/console/api/v1/escalations/{escalation_id}/notes", json={"text": ""},
                    headers=bearer(writer["key"])).status_code == 422
    assert sam.get(f"/console/api/escalations/{escalation_id}").json()["notes"][-1] == {
        "author": "api:CRM notes", "text": "Called from the CRM ✅",
        "at": sam.get(f"/console/api/escalations/{escalation_id}").json()["notes"][-1]["at"]}
    # A signed-in browser's cookie alone is refused, and so are forged keys.
    assert sam.get("/console/api/v1/escalations").status_code == 401
    assert sam.post(f"/console/api/v1/escalations/{escalation_id}/notes", json=note, headers=sam_h).status_code == 401
    forged = reader["key"][:-4] + "AAAA"
    assert api.get("/console/api/v1/escalations", headers=bearer(forged)).status_code == 401
    assert api.get("/console/api/v1/escalations", headers=bearer("dk_' OR 1=1 --_x")).status_code == 401
    with database.unit_of_work() as session:
        assert session.get(Escalation, escalation_id) is not None
    assert sam.get("/console/api/keys").json()["keys"][0]["last_used_at"] is not None
    assert sam.delete(f"/console/api/keys/{reader['id']}", headers=sam_h).status_code == 200
    assert sam.delete(f"/console/api/keys/{reader['id']}", headers=sam_h).status_code == 404
    assert api.get("/console/api/v1/escalations", headers=bearer(reader["key"])).status_code == 401


def test_the_integration_api_is_described_by_openapi(client):  # noqa: F811
    document = client.get("/console/api/v1/openapi.json").json()
    assert set(document["paths"]) == {"/console/api/v1/escalations", "/console/api/v1/escalations/{escalation_id}",
                                      "/console/api/v1/escalations/{escalation_id}/notes"}
    assert {"EscalationItem", "EscalationDetail", "NoteIn", "BorrowerContext", "Money"} <= set(
        document["components"]["schemas"])
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
