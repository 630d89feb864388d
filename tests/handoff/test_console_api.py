"""The console's HTTP surface with FastAPI's TestClient: sign-in, roles, CSRF, and the Rasa calls it makes."""
from __future__ import annotations

import json
import re
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient

from bot.config import load_settings
from bot.handoff.accounts import create_account, disable_account
from bot.handoff.queue import EscalationQueue
from channels.console import STATIC_DIR, console_router
from channels.console.rasa_api import RasaConversations, RasaUnavailable, UnaddressableConversation
from channels.console.throttle import SignInThrottle

PASSWORD = "s3cret-pass"


class FakeRasa:
    """Records the requests the console sends to Rasa's HTTP API and answers like Rasa 3.6."""

    def __init__(self) -> None:
        self.failing_paths: set[str] = set()  # answered 500, like a Rasa that is down
        self.requests: list[tuple[str, str, dict, object]] = []
        self.raw_paths: list[bytes] = []  # as sent on the wire, escapes included
        self.events: list[dict] = [
            {"event": "user", "text": "<img src=x onerror=alert(1)>", "timestamp": 1.0,
             "parse_data": {"intent": {"name": "request_human"}}},
            {"event": "pause", "timestamp": 2.0},
        ]

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, request.url.path, dict(request.url.params), body))
        self.raw_paths.append(request.url.raw_path.split(b"?")[0])
        if request.url.path in self.failing_paths:
            return httpx.Response(500, json={"status": "failure"})
        if request.method == "GET":
            return httpx.Response(200, json={"sender_id": "conv-1", "paused": True, "events": self.events,
                                             "slots": {"language": "en", "verified": False}})
        return httpx.Response(200, json={})


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(database, tmp_path, monkeypatch, fake_rasa):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    settings = load_settings()
    with database.unit_of_work() as session:
        create_account(session, "ada", "Ada", "agent", PASSWORD)
        create_account(session, "bob", "Bob", "agent", PASSWORD)
        create_account(session, "sam", "Sam", "supervisor", PASSWORD)
    rasa = RasaConversations("http://rasa.test", "tok", transport=httpx.MockTransport(fake_rasa.handler))
    app = FastAPI()
    app.include_router(console_router(settings, db=database, rasa=rasa))
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    return TestClient(app)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = client.post("/console/login", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303
    page = client.get("/console/")
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    return match.group(1) if match else ""


def escalation(database, conversation: str = "conv-1", offer: dict | None = None) -> int:
    summary = {"verified": False, "language": "en"}
    if offer:
        summary["proposed_offer"] = offer
    with database.unit_of_work() as session:
        opened, _ = EscalationQueue(session).open(conversation_id=conversation, channel="socketio",
                                                  reason="request_human", priority=3, summary=summary,
                                                  language="en", now=datetime(2026, 11, 28))
        return opened.id


def test_everything_needs_sign_in(client, database):
    escalation_id = escalation(database)
    assert client.get("/console/", follow_redirects=False).status_code == 303
    assert client.get(f"/console/conversations/{escalation_id}", follow_redirects=False).status_code == 303
    assert client.get("/console/api/queue").status_code == 401
    assert client.get(f"/console/api/escalations/{escalation_id}").status_code == 401
    assert client.post(f"/console/api/escalations/{escalation_id}/claim").status_code == 401


def test_a_wrong_password_does_not_sign_in(client):
    sign_in(client, "ada", "wrong")
    assert client.get("/console/api/queue").status_code == 401


def test_the_sign_in_form_needs_its_csrf_token(client):
    response = client.post("/console/login", data={"username": "ada", "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 403


def test_session_cookie_is_httponly_and_samesite(client):
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = client.post("/console/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=" in cookie


def test_a_tampered_session_cookie_is_refused(client):
    sign_in(client, "ada")
    tampered = client.cookies.get("console_session")[:-2] + "xx"
    client.cookies.clear()
    client.cookies.set("console_session", tampered)
    assert client.get("/console/api/queue").status_code == 401


def test_signing_out_ends_the_session_even_for_a_kept_copy_of_the_cookie(client):
    csrf = sign_in(client, "ada")
    kept = client.cookies.get("console_session")
    assert client.get("/console/api/queue").status_code == 200
    assert client.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    client.cookies.clear()
    client.cookies.set("console_session", kept)  # a stolen or cached copy
    assert client.get("/console/api/queue").status_code == 401
    assert client.get("/console/", follow_redirects=False).status_code == 303
    client.cookies.clear()
    sign_in(client, "ada")  # signing in again works
    assert client.get("/console/api/queue").status_code == 200


def test_signing_out_ends_that_accounts_sessions_only(client):
    sam = TestClient(client.app)
    sign_in(sam, "sam")
    csrf = sign_in(client, "ada")
    assert client.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert sam.get("/console/api/queue").status_code == 200


def test_state_changes_are_refused_without_the_csrf_token(client, database):
    escalation_id = escalation(database)
    csrf = sign_in(client, "ada")
    assert client.post(f"/console/api/escalations/{escalation_id}/claim").status_code == 403
    assert client.post(f"/console/api/escalations/{escalation_id}/claim",
                       headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post(f"/console/api/escalations/{escalation_id}/claim",
                       headers={"X-CSRF-Token": csrf}).status_code == 200


def test_an_agent_cannot_see_all_but_a_supervisor_can(client, database):
    escalation(database)
    sign_in(client, "ada")
    assert client.get("/console/api/queue?view=all").status_code == 403
    assert len(client.get("/console/api/queue?view=waiting").json()["items"]) == 1
    client.cookies.clear()
    sign_in(client, "sam")
    assert len(client.get("/console/api/queue?view=all").json()["items"]) == 1


def test_claim_is_first_come_and_moves_it_to_mine(client, database):
    escalation_id = escalation(database)
    csrf = sign_in(client, "ada")
    assert client.post(f"/console/api/escalations/{escalation_id}/claim", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert [i["id"] for i in client.get("/console/api/queue?view=mine").json()["items"]] == [escalation_id]
    client.cookies.clear()
    csrf = sign_in(client, "bob")
    response = client.post(f"/console/api/escalations/{escalation_id}/claim", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 409
    # Bob can neither read Ada's conversation nor speak in it.
    assert client.get(f"/console/api/escalations/{escalation_id}").status_code == 403
    assert client.post(f"/console/api/escalations/{escalation_id}/reply", json={"text": "hi"},
                       headers={"X-CSRF-Token": csrf}).status_code == 403


def test_reply_goes_to_rasa_as_a_bot_event_with_the_agents_name(client, database, fake_rasa):
    escalation_id = escalation(database)
    csrf = sign_in(client, "ada")
    client.post(f"/console/api/escalations/{escalation_id}/claim", headers={"X-CSRF-Token": csrf})
    response = client.post(f"/console/api/escalations/{escalation_id}/reply", json={"text": "Hello, this is Ada"},
                           headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200
    method, path, params, body = fake_rasa.requests[-1]
    assert (method, path) == ("POST", "/conversations/conv-1/tracker/events")
    assert params == {"token": "tok", "output_channel": "latest", "execute_side_effects": "true"}
    assert body["event"] == "bot" and body["text"] == "Ada (agent): Hello, this is Ada"
    assert body["metadata"] == {"agent_name": "Ada", "agent_text": "Hello, this is Ada"}


def test_detail_shows_the_transcript_as_data(client, database):
    escalation_id = escalation(database)
    sign_in(client, "ada")
    detail = client.get(f"/console/api/escalations/{escalation_id}").json()
    assert detail["transcript"][0] == {"id": 1, "speaker": "borrower", "text": "<img src=x onerror=alert(1)>", "at": 1.0,
                                       "intent": "request_human"}
    assert detail["paused"] is True


def test_hand_back_resumes_triggers_the_intent_and_closes(client, database, fake_rasa):
    escalation_id = escalation(database)
    csrf = sign_in(client, "ada")
    client.post(f"/console/api/escalations/{escalation_id}/claim", headers={"X-CSRF-Token": csrf})
    assert client.post(f"/console/api/escalations/{escalation_id}/hand-back", headers={"X-CSRF-Token": csrf}).status_code == 200
    posted = [(path, body) for method, path, _, body in fake_rasa.requests if method == "POST"]
    assert posted == [("/conversations/conv-1/tracker/events",  # the claim: bot paused, "Ada joined"
                       [{"event": "pause"}, {"event": "bot", "text": "Ada joined the conversation.",
                                             "metadata": {"agent_joined": "Ada"}}]),
                      ("/conversations/conv-1/tracker/events",
                       [{"event": "resume"}, {"event": "action", "name": "action_listen"}]),
                      ("/conversations/conv-1/trigger_intent", {"name": "EXTERNAL_agent_handed_back"})]
    with database.unit_of_work() as session:
        closed = EscalationQueue(session).get(escalation_id)
        assert (closed.status, closed.outcome) == ("closed", "handed_back")


def test_a_second_hand_back_is_refused_and_rasa_is_told_once(client, database, fake_rasa):
    escalation_id = escalation(database)
    csrf = sign_in(client, "ada")
    client.post(f"/console/api/escalations/{escalation_id}/claim", headers={"X-CSRF-Token": csrf})
    supervisor = TestClient(client.app)
    supervisor_csrf = sign_in(supervisor, "sam")
    assert client.post(f"/console/api/escalations/{escalation_id}/hand-back",
                       headers={"X-CSRF-Token": csrf}).status_code == 200
    second = supervisor.post(f"/console/api/escalations/{escalation_id}/hand-back",
                             headers={"X-CSRF-Token": supervisor_csrf})
    assert second.status_code == 403
    triggers = [path for method, path, _, _ in fake_rasa.requests if path.endswith("/trigger_intent")]
    assert triggers == ["/conversations/conv-1/trigger_intent"]


def test_a_hand_back_rasa_cannot_take_leaves_the_conversation_with_the_agent(client, database, fake_rasa):
    escalation_id = escalation(database)
    csrf = sign_in(client, "ada")
    client.post(f"/console/api/escalations/{escalation_id}/claim", headers={"X-CSRF-Token": csrf})
    fake_rasa.failing_paths.add("/conversations/conv-1/trigger_intent")
    response = client.post(f"/console/api/escalations/{escalation_id}/hand-back", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 502 and "still yours" in response.json()["detail"]
    posted = [body for method, path, _, body in fake_rasa.requests if path == "/conversations/conv-1/tracker/events"]
    assert posted[-1] == [{"event": "pause"}]  # resumed, then paused again: the bot stays quiet
    with database.unit_of_work() as session:
        kept = EscalationQueue(session).get(escalation_id)
        assert (kept.status, kept.claimed_by, kept.outcome) == ("claimed", "ada", None)
    fake_rasa.failing_paths.clear()
    assert client.post(f"/console/api/escalations/{escalation_id}/hand-back",
                       headers={"X-CSRF-Token": csrf}).status_code == 200  # and can try again


def test_an_agent_may_approve_an_agent_level_plan_but_not_a_supervisor_level_one(client, database):
    offer = {"monthly": "400.00", "months": 9, "first_payment": "2026-12-05", "total": "3600.00", "currency": "CNY"}
    agent_level = escalation(database, "conv-a", {**offer, "authority": "agent"})
    supervisor_level = escalation(database, "conv-s", {**offer, "authority": "supervisor"})
    csrf = sign_in(client, "ada")
    headers = {"X-CSRF-Token": csrf}
    for escalation_id in (agent_level, supervisor_level):
        client.post(f"/console/api/escalations/{escalation_id}/claim", headers=headers)
    # The console only offers the approve button where the role may approve.
    assert client.get(f"/console/api/escalations/{agent_level}").json()["can_approve"] is True
    assert client.get(f"/console/api/escalations/{supervisor_level}").json()["can_approve"] is False
    ok = client.post(f"/console/api/escalations/{agent_level}/offer", json={"decision": "approve"}, headers=headers)
    assert ok.status_code == 200 and ok.json()["approved_offer"]["approved_by"] == "ada"
    refused = client.post(f"/console/api/escalations/{supervisor_level}/offer", json={"decision": "approve"},
                          headers=headers)
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, "sam")
    assert client.get(f"/console/api/escalations/{supervisor_level}").json()["can_approve"] is True


def test_notes_and_close_with_an_outcome(client, database, fake_rasa):
    escalation_id = escalation(database)
    csrf = sign_in(client, "ada")
    headers = {"X-CSRF-Token": csrf}
    client.post(f"/console/api/escalations/{escalation_id}/claim", headers=headers)
    assert client.post(f"/console/api/escalations/{escalation_id}/notes", json={"text": "asked for payslips"},
                       headers=headers).status_code == 200
    assert client.post(f"/console/api/escalations/{escalation_id}/close", json={"outcome": "nonsense"},
                       headers=headers).status_code == 400
    assert client.post(f"/console/api/escalations/{escalation_id}/close", json={"outcome": "message_taken"},
                       headers=headers).status_code == 200
    assert fake_rasa.requests[-2][3][0] == {"event": "resume"}  # the bot answers the borrower again
    assert fake_rasa.requests[-1][1:4:2] == ("/conversations/conv-1/trigger_intent",  # and asks for satisfaction
                                             {"name": "EXTERNAL_agent_closed"})
    detail = client.get(f"/console/api/escalations/{escalation_id}").json()
    assert detail["notes"][0]["text"] == "asked for payslips" and detail["outcome"] == "message_taken"


def test_pages_carry_a_strict_content_security_policy(client):
    sign_in(client, "ada")
    page = client.get("/console/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/console/static/console.js").status_code == 200


WIDGET_SESSION = "9f" * 32  # the secret half of a widget conversation id, `web:<64 hex>`


def test_no_page_or_response_about_an_escalation_reveals_the_conversation_id(client, database, fake_rasa):
    """On the widget the conversation id is the borrower's session credential: agents see "#<n>" only."""
    conversation = f"web:{WIDGET_SESSION}"
    escalation_id = escalation(database, conversation, {"monthly": "400.00", "months": 9, "authority": "agent",
                                                        "first_payment": "2026-12-05", "total": "3600.00"})
    csrf = sign_in(client, "ada")
    headers = {"X-CSRF-Token": csrf}
    base = f"/console/api/escalations/{escalation_id}"
    responses = [
        client.get("/console/api/queue?view=waiting"),
        client.get(f"/console/conversations/{escalation_id}"),
        client.post(f"{base}/claim", headers=headers),
        client.get("/console/api/queue?view=mine"),
        client.get(base),
        client.post(f"{base}/reply", json={"text": "Hello"}, headers=headers),
        client.post(f"{base}/notes", json={"text": "note"}, headers=headers),
        client.post(f"{base}/offer", json={"decision": "approve"}, headers=headers),
    ]
    fake_rasa.failing_paths.update({f"/conversations/{conversation}/tracker",
                                    f"/conversations/{conversation}/trigger_intent"})
    responses += [client.get(base), client.post(f"{base}/hand-back", headers=headers)]  # Rasa errors too
    fake_rasa.failing_paths.clear()
    responses += [client.post(f"{base}/hand-back", headers=headers), client.get(base)]
    client.cookies.clear()
    sign_in(client, "sam")
    responses.append(client.get("/console/api/queue?view=all"))
    assert [r.status_code for r in responses] == [200] * 9 + [502] + [200] * 3
    assert any(r.json().get("ref") == f"#{escalation_id}" for r in responses[4:5])
    assert f"Escalation #{escalation_id}" in responses[1].text
    assert any(path.startswith(f"/conversations/{conversation}/") for _, path, _, _ in fake_rasa.requests)
    for response in responses:
        shown = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
        assert WIDGET_SESSION not in shown, f"{response.request.method} {response.request.url} shows it"


def test_conversation_ids_that_a_rasa_url_would_change_are_refused_before_any_request(fake_rasa):
    rasa = RasaConversations("http://rasa.test", "tok", transport=httpx.MockTransport(fake_rasa.handler))
    for conversation in ("rest:x?token=other", "rest:../../model", "rest:a/b", "rest:a#b", "rest:%41", "..",
                         "rest:王"):
        with pytest.raises(UnaddressableConversation) as refused:
            rasa.tracker(conversation)
        assert conversation not in str(refused.value)
        with pytest.raises(UnaddressableConversation):
            rasa.send_as_agent(conversation, "Ada", "hi", "en")
    assert fake_rasa.requests == []
    rasa.tracker("telegram:731500101")
    rasa.resume(f"web:{WIDGET_SESSION}")
    assert [raw for raw in fake_rasa.raw_paths] == [b"/conversations/telegram:731500101/tracker",
                                                    f"/conversations/web:{WIDGET_SESSION}/tracker/events".encode()]


def test_rasa_errors_shown_to_agents_name_neither_the_conversation_nor_the_token(fake_rasa):
    rasa = RasaConversations("http://rasa.test", "secret-token", transport=httpx.MockTransport(fake_rasa.handler))
    fake_rasa.failing_paths.add("/conversations/telegram:731500101/tracker")
    with pytest.raises(RasaUnavailable) as failed:
        rasa.tracker("telegram:731500101")
    assert "500" in str(failed.value)
    assert "731500101" not in str(failed.value) and "secret-token" not in str(failed.value)


def bad_sign_in(client: TestClient, username: str):
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post("/console/login", data={"username": username, "password": "wrong", "csrf_token": token},
                       follow_redirects=False)


def throttled_client(database, tmp_path, monkeypatch, fake_rasa, clock, host: str = "10.0.0.1") -> TestClient:
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    rasa = RasaConversations("http://rasa.test", "tok", transport=httpx.MockTransport(fake_rasa.handler))
    app = FastAPI()
    app.include_router(console_router(load_settings(), db=database, rasa=rasa, throttle=small_throttle(clock)))
    return TestClient(app, client=(host, 50000))


def small_throttle(clock) -> SignInThrottle:
    return SignInThrottle(per_account=3, per_client=5, window_seconds=600, clock=clock)


def test_failed_sign_ins_are_throttled_per_account_with_retry_after(client, database, tmp_path, monkeypatch,
                                                                     fake_rasa):
    now = [1000.0]
    web = throttled_client(database, tmp_path, monkeypatch, fake_rasa, lambda: now[0])
    assert [bad_sign_in(web, "ada").status_code for _ in range(3)] == [303, 303, 303]
    refused = bad_sign_in(web, "ada")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 600
    assert "Too many failed sign-ins" in refused.text
    # Even the right password is refused while the account is throttled (otherwise guessing goes on).
    assert sign_in_status(web, "ada", PASSWORD) == 429
    other_client = TestClient(web.app, client=("10.0.0.2", 50000))
    assert bad_sign_in(other_client, "ada").status_code == 429  # the account's limit holds from anywhere
    assert sign_in_status(other_client, "bob", PASSWORD) == 303  # other accounts are unaffected
    now[0] += 601
    assert sign_in_status(web, "ada", PASSWORD) == 303


def test_failed_sign_ins_are_throttled_per_client_across_accounts(client, database, tmp_path, monkeypatch,
                                                                   fake_rasa):
    web = throttled_client(database, tmp_path, monkeypatch, fake_rasa, lambda: 1000.0)
    assert [bad_sign_in(web, name).status_code for name in ("u1", "u2", "u3", "u4", "u5")] == [303] * 5
    refused = bad_sign_in(web, "u6")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert bad_sign_in(TestClient(web.app, client=("10.0.0.9", 50000)), "u6").status_code == 303


def sign_in_status(client: TestClient, username: str, password: str) -> int:
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False).status_code


def test_a_disabled_account_is_signed_out_at_once(client, database):
    sign_in(client, "ada")
    assert client.get("/console/api/queue").status_code == 200
    with database.unit_of_work() as session:
        disable_account(session, "ada")
    assert client.get("/console/api/queue").status_code == 401
    assert sign_in_status(client, "ada", PASSWORD) == 303 and client.get("/console/api/queue").status_code == 401
