"""The part of Rasa's HTTP API the console uses: read a tracker, speak as an agent, hand back.

Checked against rasa 3.6.21: a `bot` event appended with
`execute_side_effects=true` reaches the borrower's channel through
`OutputChannel.send_response`, which passes on `text` (and buttons, images,
`custom`) but not the event's metadata. On socket.io a `custom` payload is
splatted into `sio.emit(...)`, so extra keys there break the call. The agent's
name therefore travels in the text itself ("Ada (agent): ..."), which every
channel shows; the metadata keeps the name and the bare text for the transcript.

Conversation ids go into URL paths. Rasa 3.6's routes (Sanic 21.12, no `unquote`) take a
path parameter as sent, percent escapes included, so a percent-encoded id would name a
different conversation. An id is therefore sent only when quoting leaves it unchanged; any
other id (`?`, `#`, `/`, `%`, spaces, non-ASCII, dot segments) is refused before a request is
made, so it can neither reach another endpoint with the console's token nor talk to the wrong
conversation. Errors never repeat the URL: it holds the conversation id and the API token.
"""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from bot.messages.agent_label import AGENT_LABEL

AGENT_JOINED = {"en": "{name} joined the conversation.", "zh": "{name} 已加入对话。"}
HANDED_BACK_INTENT = "EXTERNAL_agent_handed_back"
CLOSED_INTENT = "EXTERNAL_agent_closed"
# RFC 3986 path characters that need no percent-encoding.
PATH_SAFE = "-._~!$&'()*+,;=:@"
log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or answered with an error (the message is safe to show an agent)."""


class UnaddressableConversation(RasaUnavailable):
    """The conversation id cannot be written into a Rasa URL without changing what it names."""


def conversation_path(conversation_id: str, rest: str) -> str:
    """`/conversations/<id>/<rest>`, or UnaddressableConversation when the id would not arrive as it is."""
    quoted = quote(conversation_id, safe=PATH_SAFE)
    if quoted != conversation_id or conversation_id in ("", ".", ".."):
        raise UnaddressableConversation("this conversation's id cannot be addressed through Rasa's HTTP API")
    return f"/conversations/{quoted}/{rest}"


def agent_message_event(agent_name: str, text: str, language: str) -> dict[str, Any]:
    """The `bot` event that carries an agent's message to the borrower and into the transcript."""
    shown = AGENT_LABEL.get(language, AGENT_LABEL["en"]).format(name=agent_name, text=text)
    return {"event": "bot", "text": shown,
            "metadata": {"agent_name": agent_name, "agent_text": text}}


class RasaConversations:
    """A thin client over one Rasa server's conversation endpoints."""

    def __init__(self, base_url: str, token: str, timeout: float = 15.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, params={"token": token},
                                    transport=transport)

    def _call(self, method: str, conversation_id: str, rest: str, **kwargs: Any) -> Any:
        path = conversation_path(conversation_id, rest)
        try:
            response = self._client.request(method, path, **kwargs)
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            log.warning("Rasa answered %s to %s .../%s", exc.response.status_code, method, rest)
            raise RasaUnavailable(f"Rasa answered {exc.response.status_code} to {method} .../{rest}") from None
        except httpx.HTTPError as exc:
            log.warning("Rasa unreachable (%s) for %s .../%s", type(exc).__name__, method, rest)
            raise RasaUnavailable(f"Rasa did not answer ({type(exc).__name__}) {method} .../{rest}") from None
        return response.json() if response.content else None

    def tracker(self, conversation_id: str) -> dict[str, Any]:
        return self._call("GET", conversation_id, "tracker")

    def send_as_agent(self, conversation_id: str, agent_name: str, text: str, language: str) -> None:
        self._call("POST", conversation_id, "tracker/events",
                   params={"output_channel": "latest", "execute_side_effects": "true"},
                   json=agent_message_event(agent_name, text, language))

    def resume(self, conversation_id: str) -> None:
        """Un-pause the bot. The `action_listen` closes the paused turn, so the next user message
        (or triggered intent) is predicted by the rules like any other."""
        self._call("POST", conversation_id, "tracker/events",
                   json=[{"event": "resume"}, {"event": "action", "name": "action_listen"}])

    def pause(self, conversation_id: str) -> None:
        """Pause the bot again (a hand-back that Rasa could not complete)."""
        self._call("POST", conversation_id, "tracker/events", json=[{"event": "pause"}])

    def hand_back_intent(self, conversation_id: str) -> None:
        """Let the resumed bot speak again (it presents an approved plan, if any)."""
        self._call("POST", conversation_id, "trigger_intent",
                   params={"output_channel": "latest"}, json={"name": HANDED_BACK_INTENT})

    def agent_joined(self, conversation_id: str, agent_name: str, language: str) -> None:
        """Pause the bot (the borrower may have gone on with the assistant) and tell the borrower who joined."""
        shown = AGENT_JOINED.get(language, AGENT_JOINED["en"]).format(name=agent_name)
        self._call("POST", conversation_id, "tracker/events",
                   params={"output_channel": "latest", "execute_side_effects": "true"},
                   json=[{"event": "pause"}, {"event": "bot", "text": shown, "metadata": {"agent_joined": agent_name}}])

    def trigger(self, conversation_id: str, intent: str) -> None:
        """Trigger an `EXTERNAL_*` intent; its action checks the server's records before it says anything."""
        self._call("POST", conversation_id, "trigger_intent", params={"output_channel": "latest"},
                   json={"name": intent})

    def close(self) -> None:
        self._client.close()
