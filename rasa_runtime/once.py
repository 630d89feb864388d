"""A message delivered twice is handled once.

Channels deliver at least once: Telegram sends an update again until it is answered 200, and the
widget sends a message again on its next socket when the first socket was lost before the server
acknowledged it (a Rasa process killed or restarted, a proxy closing the connection). A second
delivery used to be a second turn: the scale-out rehearsal saw a widget borrower's "HCF-70006
1988-04-12" verified by the first delivery (still waiting for the conversation's lock when its
socket was lost) and then answered again as a new turn by the second (docs/scale-out.md).

Each such delivery carries the id its channel gave the message, `<channel>:<id>`
(`telegram:<update_id>`, `widget:<the widget's message id>`), and Rasa stores it on the user event.
`MessageProcessor.handle_message` runs under the conversation's lock (`Agent.handle_message` takes
it), so it is the one place where "is this message already in the conversation?" has a stable
answer: here the latest session is searched for a user event with that id, and a delivery whose
message is there is not handled again. Its answers reached the borrower already, or reach them on
resuming (the widget replays what it has not seen; Telegram was sent them by the first delivery).

Ids Rasa makes itself (a uuid's hex, no colon: REST, Rasa's HTTP API) are never looked up, so those
turns cost nothing more. The Telegram channel's claim on an update (channels/telegram/dedup.py)
still keeps two deliveries of one update from waiting on the lock together; this check is what
holds when a claim has lapsed.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

_RASA_HANDLE_MESSAGE = MessageProcessor.handle_message


def delivery_id(message: UserMessage) -> Optional[str]:
    """The id a channel gave this delivery (`<channel>:<id>`), or None for an id Rasa made."""
    message_id = message.message_id
    return message_id if isinstance(message_id, str) and ":" in message_id else None


def already_handled(tracker: Optional[DialogueStateTracker], message_id: str) -> bool:
    """Whether the conversation's latest session holds a user event with this message id."""
    if tracker is None:
        return False
    return any(isinstance(event, UserUttered) and event.message_id == message_id
               for event in reversed(tracker.events))


async def handle_message(processor: MessageProcessor, message: UserMessage) -> Any:
    """Rasa's `MessageProcessor.handle_message`, unless this delivery's message was handled already."""
    message_id = delivery_id(message)
    if message_id is not None:
        tracker = await processor.tracker_store.retrieve(message.sender_id)
        if already_handled(tracker, message_id):
            logger.info("rasa.duplicate_delivery channel=%s ignored", message.input_channel)
            return [] if isinstance(message.output_channel, CollectingOutputChannel) else None
    return await _RASA_HANDLE_MESSAGE(processor, message)


def install() -> None:
    MessageProcessor.handle_message = handle_message
