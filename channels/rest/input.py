"""Rasa's REST channel (`/webhooks/rest/webhook`) with every sender namespaced `rest:<sender>`.

On Rasa's own REST channel the caller's `sender` is the conversation id, so a caller who
knows a Telegram chat id could send `"telegram:<chat id>"` and continue that borrower's
verified conversation. Here the id is always `rest:` + what the caller sent, so REST can
only reach REST conversations (widget ids are `web:<hex>`, Telegram's `telegram:<chat>`).
Over-long messages are answered here and never reach Rasa (channels/message_limit.py).
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request

from channels.message_limit import refusing_long_messages

SENDER_PREFIX = "rest:"
# Rasa's own conversation id for a message without a sender.
DEFAULT_SENDER = "default"


def namespaced(sender: Any) -> str:
    """The conversation id of a REST caller's `sender`: always `rest:<sender>`."""
    name = sender if isinstance(sender, str) and sender else (DEFAULT_SENDER if sender in (None, "") else str(sender))
    return SENDER_PREFIX + name


class NamespacedRestInput(RestInput):
    """The REST channel as Rasa's, except for the namespaced conversation ids and the length cap."""

    @classmethod
    def name(cls) -> Text:
        return "rest"  # keeps the URL /webhooks/rest/webhook

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return namespaced((req.json or {}).get("sender"))

    def _extract_input_channel(self, req: Request) -> Text:
        # The caller may not claim another channel's name (Rasa lets the body choose it).
        return self.name()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(refusing_long_messages(on_new_message, self.name()))
