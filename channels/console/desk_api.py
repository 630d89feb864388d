"""The desk's JSON API beyond the basics in `routes.py`: queue rows with SLA and unread counts,
release / transfer / reopen, canned replies, the transcript's newer entries, agent language,
API keys, and the live event stream. Included by `console_router`, which passes its helpers in.

Every state-changing route needs the CSRF header (`deps.changing_agent`); role checks happen here,
on the server. Escalations are named by number; the conversation id stays on the server.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from bot.accounts.models import Loan, ScheduledInstalment
from bot.config import Settings
from bot.handoff.account_view import account_books
from bot.handoff.accounts import account_named, is_disabled
from bot.handoff.api_keys import ApiKeyError, all_keys, create_key, revoke_key
from bot.handoff.canned import CannedReplies, CannedReplyError, DuplicateShortcut, checked, fill
from bot.handoff.context import iso
from bot.handoff.models import CLOSED, ROLES, AgentAccount, Escalation
from bot.handoff.queue import PREVIEW_CHARS, Conflict, EscalationQueue, NotAllowed, approved_offer_of, summary_of
from bot.handoff.sla import first_reply_sla
from bot.language import format_date, format_money
from bot.negotiation import Policy
from bot.storage import Database
from channels.console.live import LiveHub, event_stream
from channels.console.rasa_api import RasaConversations, RasaUnavailable
from channels.console.transcript import transcript
from channels.console.wording import refusal, refused, words

LANGUAGES = ("en", "zh")


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def escalation_ref(escalation_id: int) -> str:
    """How agents name an escalation; the conversation id is never shown (it is the borrower's credential)."""
    return f"#{escalation_id}"


def escalation_json(escalation: Escalation, *, now: datetime, targets: dict[int, int],
                    borrower_name: str | None = None, unread: int = 0,
                    summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """An escalation as the console and the integration API show it (no conversation id)."""
    summary = summary_of(escalation) if summary is None else summary
    sla = first_reply_sla(priority=escalation.priority, opened_at=escalation.created_at,
                          reopened_at=escalation.reopened_at, first_reply_at=escalation.first_agent_reply_at,
                          targets=targets, now=now)
    return {
        "id": escalation.id, "ref": escalation_ref(escalation.id), "channel": escalation.channel,
        "reason": escalation.reason, "priority": escalation.priority, "status": escalation.status,
        "claimed_by": escalation.claimed_by, "language": escalation.language, "outcome": escalation.outcome,
        "created_at": iso(escalation.created_at), "claimed_at": iso(escalation.claimed_at),
        "closed_at": iso(escalation.closed_at),
        "age_seconds": int((now - escalation.created_at).total_seconds()),
        "verified": bool(summary.get("verified")), "loan_ref": summary.get("loan_ref"),
        "summary": summary, "approved_offer": approved_offer_of(escalation),
        "borrower_name": borrower_name if summary.get("verified") else None,
        "last_borrower_text": (escalation.last_borrower_text or "")[:PREVIEW_CHARS] or None,
        "last_borrower_at": iso(escalation.last_borrower_at),
        "sla": {"target_minutes": sla.target_minutes, "due_at": iso(sla.due_at),
                "remaining_seconds": sla.remaining_seconds, "breached": sla.breached, "met_at": iso(sla.met_at)},
        "first_agent_reply_at": iso(escalation.first_agent_reply_at),
        "wait_notice_at": iso(escalation.wait_notice_at), "assistant_resumed_at": iso(escalation.assistant_resumed_at),
        "callback_at": iso(escalation.callback_at), "reopened_at": iso(escalation.reopened_at),
        "satisfaction": escalation.satisfaction, "unread": unread if escalation.status != CLOSED else 0,
    }


@dataclass
class ConsoleDeps:
    """What the console's routers share (built once by `console_router`)."""

    settings: Settings
    database: Callable[[], Database]
    rasa_api: Callable[[], RasaConversations]
    policy: Callable[[], Policy]
    live: LiveHub
    api_agent: Callable[..., Any]       # FastAPI dependency: the signed-in agent, or 401
    changing_agent: Callable[..., Any]  # the same, plus the CSRF check (403)
    visible_to: Callable[[Any, Escalation | None], Escalation]

    def targets(self) -> dict[int, int]:
        return self.policy().desk.first_reply_minutes

    def rows_json(self, session, escalations: list[Escalation], now: datetime) -> list[dict[str, Any]]:
        """Queue rows with borrower names (one query) and unread counts (one tracker-store query)."""
        summaries = [summary_of(e) for e in escalations]
        refs = {s.get("loan_ref") for s in summaries if s.get("verified") and isinstance(s.get("loan_ref"), str)}
        names = EscalationQueue(session).borrower_names(refs)
        unread = self.live.tracker.unread(sorted({e.conversation_id for e in escalations if e.status != CLOSED}))
        targets = self.targets()
        return [escalation_json(e, now=now, targets=targets, borrower_name=names.get(s.get("loan_ref")),
                                unread=unread.get(e.conversation_id, 0), summary=s)
                for e, s in zip(escalations, summaries)]


def canned_values(session, escalation: Escalation, today) -> dict[str, str | None]:
    """{name}, {arrears}, {next_due} for the escalation's borrower, in the escalation's language (None: unknown)."""
    summary, lang = summary_of(escalation), escalation.language if escalation.language in LANGUAGES else "en"
    loan_ref = summary.get("loan_ref") if summary.get("verified") else None
    loan = session.execute(select(Loan).where(Loan.reference == loan_ref)).scalar_one_or_none() if loan_ref else None
    if loan is None:
        return {"name": None, "arrears": None, "next_due": None}
    arrears = None
    try:
        if summary.get("arrears") is not None:
            arrears = format_money(Decimal(str(summary["arrears"])), summary.get("currency") or loan.currency, lang)
    except (InvalidOperation, ValueError):
        arrears = None
    due = None
    books = account_books(session, loan.reference, today, payments=0, changes=0)
    plan = books.current_plan if books else None
    if plan is not None and plan.next_instalment is not None:
        due = plan.next_instalment.due
    else:
        due = session.execute(select(ScheduledInstalment.due_date).where(
            ScheduledInstalment.loan_id == loan.id, ScheduledInstalment.due_date >= today)
            .order_by(ScheduledInstalment.due_date).limit(1)).scalar_one_or_none()
    return {"name": loan.borrower.full_name, "arrears": arrears,
            "next_due": format_date(due, lang) if due else None}


def desk_router(deps: ConsoleDeps) -> APIRouter:
    router = APIRouter()
    api_agent, changing_agent = deps.api_agent, deps.changing_agent

    def supervisor_only(agent, what: str) -> None:
        if not agent.is_supervisor:
            raise refused(403, agent.language, "only a supervisor can {what}", what=words(agent.language, what))

    # -- the agent ---------------------------------------------------------------------
    @router.put("/api/me/language")
    def set_language(body: dict[str, Any] = Body(...), agent=Depends(changing_agent)) -> dict:
        language = body.get("language")
        if language not in LANGUAGES:
            raise refused(400, agent.language, "language is en or zh")
        with deps.database().unit_of_work() as s:
            account_named(s, agent.username).language = language
        return {"ok": True}

    @router.get("/api/agents")
    def agents(agent=Depends(api_agent)) -> dict:
        with deps.database().unit_of_work() as s:
            accounts = s.execute(select(AgentAccount).order_by(AgentAccount.username)).scalars().all()
            return {"agents": [{"username": a.username, "display_name": a.display_name, "role": a.role}
                               for a in accounts if not is_disabled(a) and a.role in ROLES]}

    # -- moving an escalation --------------------------------------------------------------
    @router.post("/api/escalations/{escalation_id}/release")
    def release(escalation_id: int, agent=Depends(changing_agent)) -> dict:
        with deps.database().unit_of_work() as s:
            queue = EscalationQueue(s)
            deps.visible_to(agent, queue.get(escalation_id))
            try:
                queue.release(escalation_id, agent.username, agent.role)
            except Conflict as exc:
                raise refusal(409, agent.language, exc) from exc
        return {"ok": True}

    @router.post("/api/escalations/{escalation_id}/transfer")
    def transfer(escalation_id: int, body: dict[str, Any] = Body(...), agent=Depends(changing_agent)) -> dict:
        to = str(body.get("to") or "").strip().lower()
        if not to:
            raise refused(400, agent.language, "to is the username of the agent who takes it over")
        with deps.database().unit_of_work() as s:
            target = account_named(s, to)
            if target is None or is_disabled(target):
                raise refused(400, agent.language, "no active agent named {name}", name=repr(to[:64]))
            queue = EscalationQueue(s)
            escalation = deps.visible_to(agent, queue.get(escalation_id))
            try:
                queue.transfer(escalation, target.username, agent.username, agent.role, now_utc())
            except NotAllowed as exc:
                raise refusal(403, agent.language, exc) from exc
            except Conflict as exc:
                raise refusal(409, agent.language, exc) from exc
        return {"ok": True}

    @router.post("/api/escalations/{escalation_id}/reopen")
    def reopen(escalation_id: int, agent=Depends(changing_agent)) -> dict:
        with deps.database().unit_of_work() as s:
            queue = EscalationQueue(s)
            escalation = queue.get(escalation_id)
            if escalation is None:
                raise refused(404, agent.language, "no such escalation")
            before = (escalation.claimed_by, escalation.claimed_at, escalation.closed_at, escalation.outcome,
                      escalation.first_agent_reply_at, escalation.reopened_at)
            try:
                queue.reopen_closed(escalation, agent.username, agent.role, now_utc())
            except NotAllowed as exc:
                raise refusal(403, agent.language, exc) from exc
            except Conflict as exc:
                raise refusal(409, agent.language, exc) from exc
            conversation_id = escalation.conversation_id
        try:
            deps.rasa_api().pause(conversation_id)  # the bot stays quiet until an agent has spoken
        except RasaUnavailable as exc:
            with deps.database().unit_of_work() as s:
                escalation = EscalationQueue(s).get(escalation_id)
                if escalation.status != CLOSED:
                    escalation.status = CLOSED
                    (escalation.claimed_by, escalation.claimed_at, escalation.closed_at, escalation.outcome,
                     escalation.first_agent_reply_at, escalation.reopened_at) = before
            raise refused(502, agent.language, "not reopened: Rasa could not pause the bot: {error}", error=exc) from exc
        return {"ok": True}

    # -- the transcript's newer entries ----------------------------------------------------
    @router.get("/api/escalations/{escalation_id}/transcript")
    def transcript_after(escalation_id: int, after: int = 0, agent=Depends(api_agent)) -> dict:
        with deps.database().unit_of_work() as s:
            conversation_id = deps.visible_to(agent, EscalationQueue(s).get(escalation_id)).conversation_id
        try:
            tracker = deps.rasa_api().tracker(conversation_id)
        except RasaUnavailable as exc:
            raise HTTPException(502, str(exc)) from exc
        return {"entries": transcript(tracker, after=max(after, 0)), "paused": bool(tracker.get("paused"))}

    # -- canned replies ------------------------------------------------------------------------
    def reply_json(reply) -> dict[str, Any]:
        return {"id": reply.id, "language": reply.language, "shortcut": reply.shortcut, "title": reply.title,
                "body": reply.body}

    @router.get("/api/canned")
    def canned(language: str = "", agent=Depends(api_agent)) -> dict:
        if language and language not in LANGUAGES:
            raise refused(400, agent.language, "language is en or zh")
        with deps.database().unit_of_work() as s:
            return {"replies": [reply_json(r) for r in CannedReplies(s).live(language or None)]}

    def save_canned(body: dict[str, Any], agent, reply_id: int | None = None) -> dict:
        supervisor_only(agent, "manage canned replies")
        try:
            draft = checked(body.get("language"), body.get("shortcut"), body.get("title"), body.get("body"))
            with deps.database().unit_of_work() as s:
                replies = CannedReplies(s)
                if reply_id is None:
                    return reply_json(replies.create(draft, agent.username, now_utc()))
                reply = replies.get(reply_id)
                if reply is None:
                    raise refused(404, agent.language, "no such canned reply")
                return reply_json(replies.update(reply, draft, now_utc()))
        except DuplicateShortcut as exc:
            raise HTTPException(409, str(exc)) from exc
        except CannedReplyError as exc:
            raise HTTPException(400, str(exc)) from exc

    @router.post("/api/canned")
    def canned_create(body: dict[str, Any] = Body(...), agent=Depends(changing_agent)) -> dict:
        return save_canned(body, agent)

    @router.put("/api/canned/{reply_id}")
    def canned_update(reply_id: int, body: dict[str, Any] = Body(...), agent=Depends(changing_agent)) -> dict:
        return save_canned(body, agent, reply_id)

    @router.delete("/api/canned/{reply_id}")
    def canned_archive(reply_id: int, agent=Depends(changing_agent)) -> dict:
        supervisor_only(agent, "manage canned replies")
        with deps.database().unit_of_work() as s:
            replies = CannedReplies(s)
            reply = replies.get(reply_id)
            if reply is None:
                raise refused(404, agent.language, "no such canned reply")
            replies.archive(reply, now_utc())
        return {"ok": True}

    @router.get("/api/escalations/{escalation_id}/canned")
    def canned_filled(escalation_id: int, agent=Depends(api_agent)) -> dict:
        with deps.database().unit_of_work() as s:
            escalation = deps.visible_to(agent, EscalationQueue(s).get(escalation_id))
            language = escalation.language if escalation.language in LANGUAGES else "en"
            values = canned_values(s, escalation, now_utc().date())
            return {"replies": [{"id": r.id, "shortcut": r.shortcut, "title": r.title,
                                 "text": fill(r.body, values, language)} for r in CannedReplies(s).live(language)]}

    # -- API keys (supervisors) ---------------------------------------------------------------------
    def key_json(key) -> dict[str, Any]:
        return {"id": key.id, "name": key.name, "prefix": key.prefix, "scopes": key.scopes.split(),
                "created_by": key.created_by, "created_at": iso(key.created_at),
                "revoked_at": iso(key.revoked_at), "last_used_at": iso(key.last_used_at)}

    @router.post("/api/keys")
    def keys_create(body: dict[str, Any] = Body(...), agent=Depends(changing_agent)) -> dict:
        supervisor_only(agent, "create API keys")
        try:
            with deps.database().unit_of_work() as s:
                row, key = create_key(s, name=body.get("name"), scopes=body.get("scopes"), by=agent.username,
                                      now=now_utc(), secret_key=deps.settings.link_secret)
                return {**key_json(row), "key": key}
        except ApiKeyError as exc:
            raise HTTPException(400, str(exc)) from exc

    @router.get("/api/keys")
    def keys_list(agent=Depends(api_agent)) -> dict:
        supervisor_only(agent, "see API keys")
        with deps.database().unit_of_work() as s:
            return {"keys": [key_json(k) for k in all_keys(s)]}

    @router.delete("/api/keys/{key_id}")
    def keys_revoke(key_id: int, agent=Depends(changing_agent)) -> dict:
        supervisor_only(agent, "revoke API keys")
        with deps.database().unit_of_work() as s:
            if not revoke_key(s, key_id, now_utc()):
                raise refused(404, agent.language, "no live key with this id")
        return {"ok": True}

    # -- live events ---------------------------------------------------------------------------------
    @router.get("/api/events")
    async def events(request: Request, agent=Depends(api_agent)) -> StreamingResponse:
        deps.live.start()
        subscriber = deps.live.subscribe(agent.username, agent.role)
        return StreamingResponse(event_stream(deps.live, subscriber, request.is_disconnected),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return router
