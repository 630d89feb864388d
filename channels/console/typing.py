"""Typing indicators between an agent and a borrower on the web widget.

`POST /console/api/escalations/{id}/typing {"typing": bool}` (the holder only) reaches the
borrower's widget as an `agent_typing` socket.io event. The console cannot emit to a socket
itself: it asks Rasa's widget channel (`POST /webhooks/socketio/typing`, Rasa's API token),
whose socket.io server delivers to the conversation's room, through the Redis manager when
several Rasa processes run (channels/widget/socketio.py).
`GET /console/api/escalations/{id}/typing` -> {"borrower_typing": bool} for whoever may read it.
Only web conversations have typing: on Telegram both calls answer without doing anything.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

import httpx
from fastapi import APIRouter, Body, Depends

from bot.config import Settings
from bot.handoff.models import CLAIMED, WAITING
from bot.handoff.queue import EscalationQueue
from bot.storage import Database
from channels.console.wording import refused

log = logging.getLogger(__name__)
WEB_PREFIX = "web:"
RELAY_PATH = "/webhooks/socketio/typing"


class TypingRelay:
    """Rasa's widget channel endpoint for typing, over HTTP (the token travels as Rasa's own API does)."""

    def __init__(self, rasa_url: str, token: str, timeout: float = 3.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._client = httpx.Client(base_url=rasa_url.rstrip("/"), timeout=timeout, params={"token": token},
                                    transport=transport)

    def agent_typing(self, conversation_id: str, typing: bool, name: str) -> bool:
        try:
            answer = self._client.post(RELAY_PATH, json={"conversation_id": conversation_id, "typing": typing,
                                                         "name": name})
        except httpx.HTTPError as exc:
            log.warning("typing relay unreachable (%s)", type(exc).__name__)
            return False
        return answer.status_code == 200

    def borrower_typing(self, conversation_id: str) -> bool:
        try:
            answer = self._client.get(RELAY_PATH, params={"conversation_id": conversation_id})
        except httpx.HTTPError as exc:
            log.warning("typing relay unreachable (%s)", type(exc).__name__)
            return False
        return answer.status_code == 200 and answer.json().get("typing") is True


def typing_router(database: Callable[[], Database], settings: Callable[[], Settings],
                  changing_agent: Callable[..., Any], api_agent: Callable[..., Any]) -> APIRouter:
    """The typing routes, with the console's own sign-in and CSRF dependencies."""
    router = APIRouter()
    state: dict[str, TypingRelay | None] = {"relay": None}

    def relay() -> TypingRelay:
        if state["relay"] is None:
            state["relay"] = TypingRelay(settings().rasa_url, settings().rasa_api_token)
        return state["relay"]

    def escalation_of(escalation_id: int, lang: str) -> tuple[str, str, str | None]:
        with database().unit_of_work() as s:
            escalation = EscalationQueue(s).get(escalation_id)
            if escalation is None:
                raise refused(404, lang, "no such escalation")
            return escalation.conversation_id, escalation.status, escalation.claimed_by

    @router.post("/api/escalations/{escalation_id}/typing")
    def agent_typing(escalation_id: int, body: dict[str, Any] = Body(...),
                     agent: Any = Depends(changing_agent)) -> dict:
        typing = body.get("typing")
        if not isinstance(typing, bool):
            raise refused(400, agent.language, "typing is true or false")
        conversation_id, status, holder = escalation_of(escalation_id, agent.language)
        if status != CLAIMED or holder != agent.username:
            raise refused(403, agent.language, "only the agent holding this conversation shows typing to the borrower")
        delivered = conversation_id.startswith(WEB_PREFIX) and relay().agent_typing(
            conversation_id, typing, agent.display_name)
        return {"ok": True, "delivered": delivered}

    @router.get("/api/escalations/{escalation_id}/typing")
    def borrower_typing(escalation_id: int, agent: Any = Depends(api_agent)) -> dict:
        conversation_id, status, holder = escalation_of(escalation_id, agent.language)
        if not agent.is_supervisor and status != WAITING and holder != agent.username:
            raise refused(403, agent.language, "this conversation is handled by {agent}", agent=holder)
        typing = conversation_id.startswith(WEB_PREFIX) and relay().borrower_typing(conversation_id)
        return {"borrower_typing": typing}

    return router
