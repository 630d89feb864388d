"""Sending a follow-up through Rasa, so it lands in the conversation and the reply continues in context.

Rasa 3.6's HTTP API: `POST /conversations/{id}/trigger_intent?output_channel=<channel>&token=<token>`
(rasa/server.py: `requires_auth` reads `token` from the query; `_get_output_channel` picks the input
channel registered under that name). The action behind `EXTERNAL_outreach` writes the limited-content
message; this module only triggers it.
"""
from __future__ import annotations

from urllib.parse import quote

import httpx

from bot.outreach.models import Contact

OUTREACH_INTENT = "EXTERNAL_outreach"


class SendError(Exception):
    """A message could not be handed to Rasa; the scheduler retries the contact."""


class RasaSender:
    """Triggers `EXTERNAL_outreach` in the contact's conversation, answered on the contact's channel."""

    def __init__(self, rasa_url: str, token: str, timeout: float = 10.0,
                 client: httpx.Client | None = None) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self._client = client or httpx.Client(timeout=timeout)

    def request_for(self, contact: Contact) -> tuple[str, dict[str, str], dict]:
        """The URL, query and JSON body that deliver `contact` (separate for tests and logs)."""
        url = f"{self.rasa_url}/conversations/{quote(contact.conversation_id, safe=':')}/trigger_intent"
        params = {"output_channel": contact.channel, "token": self.token}
        body = {"name": OUTREACH_INTENT,
                "entities": {"outreach_reason": contact.reason, "contact_id": str(contact.id)}}
        return url, params, body

    def send(self, contact: Contact) -> None:
        url, params, body = self.request_for(contact)
        try:
            answer = self._client.post(url, params=params, json=body)
        except httpx.HTTPError as error:
            raise SendError(f"rasa unreachable: {type(error).__name__}") from error
        if answer.status_code >= 300:
            # Never the URL: it carries the token.
            raise SendError(f"rasa answered {answer.status_code}: {answer.text[:120]}")

    def delivered(self, contact: Contact) -> bool | None:
        """Whether the conversation holds this contact's `EXTERNAL_outreach` (None: Rasa cannot say now)."""
        url = f"{self.rasa_url}/conversations/{quote(contact.conversation_id, safe=':')}/tracker"
        try:
            answer = self._client.get(url, params={"token": self.token, "include_events": "ALL"})
        except httpx.HTTPError:
            return None
        if answer.status_code != 200:
            return None
        return any(_is_this_contact(event, contact.id) for event in answer.json().get("events") or [])

    def close(self) -> None:
        self._client.close()


def _is_this_contact(event: dict, contact_id: int) -> bool:
    if event.get("event") != "user":
        return False
    parse = event.get("parse_data") or {}
    if (parse.get("intent") or {}).get("name") != OUTREACH_INTENT:
        return False
    return any(entity.get("entity") == "contact_id" and str(entity.get("value")) == str(contact_id)
               for entity in parse.get("entities") or [])
