"""The console's pages and JSON API, mounted at /console by `channels.web.app`.

Pages are thin HTML shells rendered with Jinja2 (autoescaped); `static/console.js`
fills them from the JSON API and inserts everything as text, never as HTML.
Every page and endpoint needs a signed-in agent (pages redirect to the sign-in
form, the API answers 401); every state-changing call needs the CSRF token.

Agents address a conversation by its escalation number ("#42"): the borrower's
conversation id never leaves the server (on the web widget it is the borrower's
session credential). Routes that touch the database, argon2 or Rasa are plain
`def` routes (FastAPI runs them in its thread pool) or hand that work to a thread,
so the event loop, and with it every other page and agreement link, stays free.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs

import anyio.to_thread
from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from bot.config import Settings
from bot.handoff.account_view import account_books
from bot.handoff.accounts import account_named, authenticate, end_sessions, is_disabled, normalise_username
from bot.accounts.models import Loan
from bot.handoff.context import borrower_context
from bot.handoff.models import CLOSED, SUPERVISOR, WAITING, Escalation
from bot.handoff.queue import OUTCOMES, EscalationQueue, NotAllowed, QueueFilter, may_approve, summary_of
from bot.negotiation import load_policy
from bot.negotiation.affordability import Finances, monthly_surplus
from bot.outreach.account_view import outreach_view
from bot.outreach.facts import breathing_space_hold
from bot.outreach.holds import AlreadyPaused, NotPaused, pause_outreach, record_breathing_space, resume_outreach
from bot.storage import Database
from channels.console.analytics import ConsoleAccess, analytics_router
from channels.console.books import books_json, not_available
from channels.console.desk_api import LANGUAGES, ConsoleDeps, desk_router, escalation_ref, iso, now_utc
from channels.console.integration_api import integration_router
from channels.console.live import LiveHub
from channels.console.outreach import outreach_json
from channels.console.rasa_api import CLOSED_INTENT, RasaConversations, RasaUnavailable
from channels.console.sessions import LOGIN_COOKIE, SESSION_COOKIE, ConsoleSession, SessionSigner, csrf_ok
from channels.console.throttle import SignInThrottle
from channels.console.transcript import transcript, visible_slots
from channels.console.typing import typing_router
from channels.console.wording import refusal, refused, words

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
PREFIX = "/console"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
MAX_TEXT = 4000
SIGN_IN_THREADS = 4  # argon2 holds 64 MiB per check: a burst of sign-ins waits its turn, not the thread pool


@dataclass(frozen=True)
class Agent:
    username: str
    display_name: str
    role: str
    csrf: str
    language: str = "en"

    @property
    def is_supervisor(self) -> bool:
        return self.role == SUPERVISOR


def console_router(settings: Settings, *, db: Database | None = None, rasa: RasaConversations | None = None,
                   throttle: SignInThrottle | None = None, live: LiveHub | None = None) -> APIRouter:
    """The console's routes for these settings (the database and Rasa client are made on first use).

    `live` watches the escalations and Rasa's tracker store for the event stream; it starts with
    the app (or with the first stream opened) and stops with the app.
    """
    signer = SessionSigner(settings.link_secret)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    secure_cookie = settings.environment == "production"
    throttle = throttle or SignInThrottle()
    state: dict[str, Any] = {"db": db, "rasa": rasa, "sign_in_threads": None, "policy": None}

    def database() -> Database:
        if state["db"] is None:
            state["db"] = Database(settings.database_url)
        return state["db"]

    def rasa_api() -> RasaConversations:
        if state["rasa"] is None:
            state["rasa"] = RasaConversations(settings.rasa_url, settings.rasa_api_token)
        return state["rasa"]

    def policy():
        if state["policy"] is None:
            state["policy"] = load_policy(settings.policy_path)
        return state["policy"]

    def outreach_rules():
        return policy().outreach

    live = live or LiveHub(database, settings.tracker_store_url)

    def signed_in(request: Request) -> Agent | None:
        session: ConsoleSession | None = signer.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        with database().unit_of_work() as s:
            account = account_named(s, session.username)
            if account is None or account.session_generation != session.generation or is_disabled(account):
                return None  # unknown or disabled account, or signed out since this cookie was issued
            return Agent(account.username, account.display_name, account.role, session.csrf,
                         account.language if account.language in LANGUAGES else "en")

    def api_agent(request: Request) -> Agent:
        agent = signed_in(request)
        if agent is None:
            raise HTTPException(401, "sign in first")
        return agent

    def changing_agent(request: Request, agent: Agent = Depends(api_agent)) -> Agent:
        if not csrf_ok(agent.csrf, request.headers.get("X-CSRF-Token")):
            raise refused(403, agent.language, "missing or wrong CSRF token")
        return agent

    def page(request: Request, name: str, agent: Agent | None, **context: Any) -> HTMLResponse:
        response = templates.TemplateResponse(request, name, {"agent": agent, "prefix": PREFIX, **context})
        response.headers.update(SECURITY_HEADERS)
        return response

    def sign_in_redirect() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)

    def visible_to(agent: Agent, escalation: Escalation | None) -> Escalation:
        if escalation is None:
            raise refused(404, agent.language, "no such escalation")
        if not agent.is_supervisor and escalation.status != WAITING and escalation.claimed_by != agent.username:
            raise refused(403, agent.language, "this conversation is handled by {agent}", agent=escalation.claimed_by)
        return escalation

    def acting_on(escalation_id: int, agent: Agent, step: Callable[[EscalationQueue, Escalation], Any]) -> Any:
        """Run one step on an escalation the agent holds, inside one unit of work."""
        with database().unit_of_work() as s:
            queue = EscalationQueue(s)
            escalation = visible_to(agent, queue.get(escalation_id))
            try:
                queue.ensure_can_act(escalation, agent.username, agent.role)
                return step(queue, escalation)
            except NotAllowed as exc:
                raise refusal(403, agent.language, exc) from exc

    def verified_loan(s, escalation_id: int, agent: Agent) -> Loan:
        """The loan of an escalation the agent may read, once the borrower verified (outreach changes need one)."""
        summary = summary_of(visible_to(agent, EscalationQueue(s).get(escalation_id)))
        loan_ref = summary.get("loan_ref")
        if not summary.get("verified") or not loan_ref:
            raise refused(409, agent.language, "the borrower has not verified: no loan is linked to this conversation")
        loan = s.execute(select(Loan).where(Loan.reference == loan_ref)).scalar_one_or_none()
        if loan is None:
            raise refused(404, agent.language, "no loan {loan_ref} in the books", loan_ref=loan_ref)
        return loan

    def queue_filter(params: dict[str, str], lang: str) -> QueueFilter:
        """The queue's filters from the query string, or 400 naming the bad one."""
        def number(key: str, low: int, high: int) -> int | None:
            raw = (params.get(key) or "").strip()
            if not raw:
                return None
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise refused(400, lang, "{key} is a whole number from {low} to {high}", key=key, low=low, high=high)
            return int(raw)

        language = (params.get("language") or "").strip() or None
        if language is not None and language not in LANGUAGES:
            raise refused(400, lang, "language is en or zh")
        return QueueFilter(text=(params.get("q") or "")[:200], language=language,
                           reason=(params.get("reason") or "").strip()[:40] or None,
                           priority=number("priority", 1, 4),
                           min_age_minutes=number("min_age_minutes", 0, 525600),
                           agent=(params.get("agent") or "").strip().lower()[:64] or None)

    def text_field(body: dict[str, Any], lang: str, key: str = "text") -> str:
        text = str(body.get(key) or "").strip()
        if not text:
            raise refused(400, lang, "{key} is empty", key=key)
        return text[:MAX_TEXT]

    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    deps = ConsoleDeps(settings=settings, database=database, rasa_api=rasa_api, policy=policy, live=live,
                       api_agent=api_agent, changing_agent=changing_agent, visible_to=visible_to)

    async def start_live() -> None:
        live.start()

    router.add_event_handler("startup", start_live)
    router.add_event_handler("shutdown", live.stop)
    router.include_router(typing_router(database, lambda: settings, changing_agent, api_agent))

    # -- sign-in -------------------------------------------------------------------
    def login_page(request: Request, *, error: bool = False, retry_after: int | None = None) -> HTMLResponse:
        token, cookie = signer.login_token()
        response = page(request, "login.html", None, csrf_token=token, error=error,
                        retry_minutes=math.ceil(retry_after / 60) if retry_after else None)
        response.set_cookie(LOGIN_COOKIE, cookie, httponly=True, samesite="lax", secure=secure_cookie,
                            path=PREFIX)
        if retry_after:
            response.status_code = 429
            response.headers["Retry-After"] = str(retry_after)
        return response

    def check_password(username: str, password: str) -> tuple[str, int] | None:
        """(username, session generation) when the password is right (blocking: argon2 and the database)."""
        with database().unit_of_work() as s:
            account = authenticate(s, username, password)
            return (account.username, account.session_generation) if account else None

    @router.get("/login")
    def login_form(request: Request, error: str = "") -> HTMLResponse:
        return login_page(request, error=bool(error))

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if not signer.login_token_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf_token")):
            raise HTTPException(403, "the sign-in form expired; reload it")
        username = normalise_username(form.get("username", ""))[:64]
        client = request.client.host if request.client else "unknown"
        retry_after = throttle.attempt(username, client)
        if retry_after is not None:
            return login_page(request, retry_after=retry_after)
        if state["sign_in_threads"] is None:
            state["sign_in_threads"] = anyio.CapacityLimiter(SIGN_IN_THREADS)
        signed = await anyio.to_thread.run_sync(check_password, username, form.get("password", ""),
                                                limiter=state["sign_in_threads"])
        if signed is None:
            return RedirectResponse(f"{PREFIX}/login?error=1", status_code=303)
        throttle.succeeded(username, client)
        cookie, _ = signer.issue(*signed)
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        response.set_cookie(SESSION_COOKIE, cookie, max_age=signer.max_age, httponly=True, samesite="lax",
                            secure=secure_cookie, path=PREFIX)
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    @router.post("/logout")
    def logout(agent: Agent = Depends(changing_agent)) -> Response:
        with database().unit_of_work() as s:
            end_sessions(s, agent.username)
        response = JSONResponse({"ok": True})
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    # -- pages ---------------------------------------------------------------------
    @router.get("/")
    def queue_page(request: Request) -> Response:
        agent = signed_in(request)
        return page(request, "queue.html", agent) if agent else sign_in_redirect()

    @router.get("/conversations/{escalation_id}")
    def conversation_page(request: Request, escalation_id: int) -> Response:
        agent = signed_in(request)
        if agent is None:
            return sign_in_redirect()
        return page(request, "conversation.html", agent, escalation_id=escalation_id,
                    escalation_ref=escalation_ref(escalation_id), outcomes=OUTCOMES)

    # -- API -----------------------------------------------------------------------
    @router.get("/api/me")
    def me(agent: Agent = Depends(api_agent)) -> dict:
        return {"username": agent.username, "display_name": agent.display_name, "role": agent.role,
                "language": agent.language}

    @router.get("/api/queue")
    def queue_items(request: Request, view: str = "waiting", agent: Agent = Depends(api_agent)) -> Response:
        if view not in ("waiting", "mine", "all"):
            raise refused(400, agent.language, "view is one of waiting, mine, all")
        if view == "all" and not agent.is_supervisor:
            raise refused(403, agent.language, "only supervisors see every conversation")
        wanted = queue_filter(dict(request.query_params), agent.language)
        now = now_utc()
        with database().unit_of_work() as s:
            rows = EscalationQueue(s).search(view, agent.username, wanted, now)
            items = deps.rows_json(s, rows, now)
        # Plain JSON values already: skip FastAPI's per-value encoder (most of the time of 200 rows).
        return JSONResponse({"view": view, "items": items})

    @router.get("/api/escalations/{escalation_id}")
    def escalation_detail(escalation_id: int, agent: Agent = Depends(api_agent)) -> dict:
        with database().unit_of_work() as s:
            queue = EscalationQueue(s)
            escalation = visible_to(agent, queue.get(escalation_id))
            conversation_id = escalation.conversation_id
        detail: dict[str, Any] = {}
        try:
            tracker = rasa_api().tracker(conversation_id)
            detail.update(transcript=transcript(tracker), slots=visible_slots(tracker),
                          paused=bool(tracker.get("paused")), rasa_error=None)
        except RasaUnavailable as exc:
            tracker = None
            detail.update(transcript=[], slots={}, paused=None, rasa_error=str(exc))
        with database().unit_of_work() as s:
            queue = EscalationQueue(s)
            escalation = visible_to(agent, queue.get(escalation_id))
            detail.update(deps.rows_json(s, [escalation], now_utc())[0])
            detail["notes"] = [{"author": n.author, "text": n.text, "at": iso(n.created_at)}
                               for n in queue.notes(escalation_id)]
            detail["context"] = borrower_context(
                s, escalation, events=(tracker or {}).get("events"), slots=(tracker or {}).get("slots"),
                surplus_of=lambda income, costs: monthly_surplus(Finances(income, costs), policy()))
        detail["can_act"] = escalation.status == "claimed" and (
            escalation.claimed_by == agent.username or agent.is_supervisor)
        detail["can_approve"] = detail["can_act"] and may_approve(escalation, agent.role)
        return detail

    @router.get("/api/escalations/{escalation_id}/books")
    def escalation_books(escalation_id: int, agent: Agent = Depends(api_agent)) -> dict:
        """The verified borrower's promises, plans, payments and state changes, for whoever may read the escalation."""
        with database().unit_of_work() as s:
            escalation = visible_to(agent, EscalationQueue(s).get(escalation_id))
            summary = summary_of(escalation)
            loan_ref = summary.get("loan_ref")
            if not summary.get("verified") or not loan_ref:
                return not_available(words(agent.language, "Not verified: the borrower has not proved who they "
                                           "are, so no loan is linked to this conversation."))
            today = now_utc().date()
            books = account_books(s, loan_ref, today)
            if books is None:
                return not_available(words(agent.language, "No loan {loan_ref} in the books.", loan_ref=loan_ref), loan_ref)
            data = books_json(books, today, agent.language)
            data["outreach"] = outreach_json(outreach_view(s, loan_ref, now_utc()), handoff_open=escalation.status != CLOSED,
                                             lang=agent.language)
            return data

    # Outreach: any agent who may read the escalation may pause or resume; a breathing space is a
    # supervisor's call (it names a law and cannot be lifted from the console).
    @router.post("/api/escalations/{escalation_id}/outreach/pause")
    def outreach_pause(escalation_id: int, body: dict[str, Any] = Body(...),
                       agent: Agent = Depends(changing_agent)) -> dict:
        note = text_field(body, agent.language, "note")
        with database().unit_of_work() as s:
            loan = verified_loan(s, escalation_id, agent)
            try:
                pause_outreach(s, loan.reference, by=agent.username, note=note, now=now_utc())
            except AlreadyPaused as exc:
                raise HTTPException(409, str(exc)) from exc
        return {"ok": True}

    @router.post("/api/escalations/{escalation_id}/outreach/resume")
    def outreach_resume(escalation_id: int, agent: Agent = Depends(changing_agent)) -> dict:
        with database().unit_of_work() as s:
            loan = verified_loan(s, escalation_id, agent)
            try:
                resume_outreach(s, loan.reference, by=agent.username, now=now_utc())
            except NotPaused as exc:
                raise HTTPException(409, str(exc)) from exc
        return {"ok": True}

    @router.post("/api/escalations/{escalation_id}/outreach/breathing-space")
    def outreach_breathing_space(escalation_id: int, agent: Agent = Depends(changing_agent)) -> dict:
        if not agent.is_supervisor:
            raise refused(403, agent.language, "only a supervisor records a breathing space")
        rules = outreach_rules()
        with database().unit_of_work() as s:
            loan = verified_loan(s, escalation_id, agent)
            now = now_utc()
            try:
                hold = breathing_space_hold(s, loan.reference, loan.borrower.jurisdiction, rules, now,
                                            created_by=agent.username)
            except ValueError as exc:
                raise HTTPException(409, str(exc)) from exc
            record_breathing_space(s, hold, by=agent.username, now=now)
            return {"ok": True, "ends_at": iso(hold.ends_at)}

    @router.post("/api/escalations/{escalation_id}/claim")
    def claim(escalation_id: int, agent: Agent = Depends(changing_agent)) -> dict:
        with database().unit_of_work() as s:
            queue = EscalationQueue(s)
            if not queue.claim(escalation_id, agent.username, now_utc()):
                raise refused(409, agent.language, "someone else claimed it first")
            claimed = queue.get(escalation_id)
            target = (claimed.conversation_id, claimed.language)
        with contextlib.suppress(RasaUnavailable):  # the claim stands; the borrower hears of it with the first reply
            rasa_api().agent_joined(target[0], agent.display_name, target[1])
        return {"ok": True}

    @router.post("/api/escalations/{escalation_id}/reply")
    def reply(escalation_id: int, body: dict[str, Any] = Body(...), agent: Agent = Depends(changing_agent)) -> dict:
        text = text_field(body, agent.language)
        target = acting_on(escalation_id, agent, lambda q, e: (e.conversation_id, e.language))
        try:
            rasa_api().send_as_agent(target[0], agent.display_name, text, target[1])
        except RasaUnavailable as exc:
            raise refused(502, agent.language, "message not delivered: {error}", error=exc) from exc
        with database().unit_of_work() as s:
            EscalationQueue(s).record_agent_reply(escalation_id, now_utc())  # stops the first-reply clock
        return {"ok": True}

    @router.post("/api/escalations/{escalation_id}/notes")
    def add_note(escalation_id: int, body: dict[str, Any] = Body(...), agent: Agent = Depends(changing_agent)) -> dict:
        text = text_field(body, agent.language)
        acting_on(escalation_id, agent, lambda q, e: q.add_note(e.id, agent.username, text, now_utc()))
        return {"ok": True}

    @router.post("/api/escalations/{escalation_id}/offer")
    def decide_offer(escalation_id: int, body: dict[str, Any] = Body(...),
                     agent: Agent = Depends(changing_agent)) -> dict:
        decision = body.get("decision")
        if decision == "approve":
            offer = acting_on(escalation_id, agent,
                              lambda q, e: q.approve_offer(e, agent.username, agent.role, now_utc()))
            return {"ok": True, "approved_offer": offer}
        if decision == "reject":
            why = str(body.get("why") or "")[:500]
            acting_on(escalation_id, agent, lambda q, e: q.reject_offer(e, agent.username, now_utc(), why))
            return {"ok": True}
        raise refused(400, agent.language, "decision is approve or reject")

    @router.post("/api/escalations/{escalation_id}/hand-back")
    def hand_back(escalation_id: int, agent: Agent = Depends(changing_agent)) -> dict:
        # The database decides first (one winner when two people hand back at once); when Rasa
        # then cannot take the conversation, the escalation is claimed again and the bot paused.
        conversation_id = acting_on(escalation_id, agent, lambda q, e: q.hand_back(e, now_utc()) or e.conversation_id)
        resumed = False
        try:
            rasa_api().resume(conversation_id)
            resumed = True
            rasa_api().hand_back_intent(conversation_id)
        except RasaUnavailable as exc:
            with database().unit_of_work() as s:
                EscalationQueue(s).reopen(escalation_id, "handed_back")
            if resumed:
                with contextlib.suppress(RasaUnavailable):
                    rasa_api().pause(conversation_id)
            raise refused(502, agent.language, "Rasa did not take the conversation back, it is still yours: {error}",
                          error=exc) from exc
        return {"ok": True}

    @router.post("/api/escalations/{escalation_id}/close")
    def close(escalation_id: int, body: dict[str, Any] = Body(...), agent: Agent = Depends(changing_agent)) -> dict:
        outcome = body.get("outcome")
        if outcome not in OUTCOMES:
            raise refused(400, agent.language, "outcome is one of {outcomes}", outcomes=", ".join(OUTCOMES))
        conversation_id = acting_on(escalation_id, agent, lambda q, e: q.close(e, outcome, now_utc()) or e.conversation_id)
        try:
            rasa_api().resume(conversation_id)  # the bot answers the borrower's next message again
        except RasaUnavailable as exc:
            raise refused(502, agent.language, "closed, but the bot is still paused: {error}", error=exc) from exc
        with contextlib.suppress(RasaUnavailable):  # closed either way; only the satisfaction question is lost
            rasa_api().trigger(conversation_id, CLOSED_INTENT)
        return {"ok": True}

    router.include_router(desk_router(deps))
    router.include_router(integration_router(deps))
    router.include_router(analytics_router(ConsoleAccess(signed_in, page, sign_in_redirect, lambda: database().url,
                                                         settings.tracker_store_url, SECURITY_HEADERS)))
    return router
