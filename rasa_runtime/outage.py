"""A turn that fails because the database is unreachable gets a clear answer, not silence.

While PostgreSQL is down (a restart, a fail-over) Rasa cannot read or save the conversation, so
`Agent.handle_message` raises: the REST channel then answered an empty list, the widget got no
answer at all, and Telegram nothing. Now the borrower is told what happened and what to do
(channels/outage_reply.py), and the error is
raised on as `StorageUnavailable`, so each channel still treats the turn as failed (the Telegram
channel releases the update and Telegram redelivers it: that message is kept).

Rasa's own answer to a database error was worse than silence: its `FailSafeTrackerStore` logs the
error and carries on with an empty in-memory store, so during an outage a borrower's conversation
started again from "hello" and every turn answered meanwhile was saved only in that process's
memory, never in PostgreSQL (the rehearsal found turns answered and lost this way,
docs/scale-out.md). Here a database outage in the tracker store fails the turn instead: nothing of
it is saved anywhere, so asking the borrower to send it again loses and duplicates nothing. Reconnecting is SQLAlchemy's
`pool_pre_ping` (rasa_runtime/tracker_store.py, bot/storage/session.py): no restart needed.
"""
from __future__ import annotations

import logging
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore
from sqlalchemy import exc as sa_exc

from channels.outage_reply import STORAGE_TROUBLE_REPLY

logger = logging.getLogger(__name__)

_RASA_HANDLE_MESSAGE = Agent.handle_message
_RASA_ON_ERROR = FailSafeTrackerStore.on_tracker_store_error
_RASA_ON_RETRIEVE_ERROR = FailSafeTrackerStore.on_tracker_store_retrieve_error


class StorageUnavailable(RuntimeError):
    """The conversation could not be read or saved: the database is unreachable."""


def is_storage_outage(error: BaseException) -> bool:
    """A lost or refused database connection (not a bug in a statement)."""
    if isinstance(error, (StorageUnavailable, sa_exc.OperationalError, sa_exc.InterfaceError)):
        return True
    return isinstance(error, sa_exc.DBAPIError) and bool(error.connection_invalidated)


async def handle_message(agent: Agent, message: UserMessage) -> Any:
    """`Agent.handle_message`; on a database outage the borrower is answered, then the error raised on."""
    try:
        return await _RASA_HANDLE_MESSAGE(agent, message)
    except Exception as error:
        if not is_storage_outage(error):
            raise
        logger.error("rasa.storage_unavailable error=%s", type(error).__name__)
        if message.output_channel is not None:
            try:
                await message.output_channel.send_text_message(message.sender_id, STORAGE_TROUBLE_REPLY)
            except Exception:  # noqa: BLE001 - the turn fails either way; say why below
                logger.exception("rasa.storage_unavailable.reply_failed")
        raise StorageUnavailable("the tracker store is unreachable") from error


def on_tracker_store_error(store: FailSafeTrackerStore, error: Exception) -> None:
    """Raise on a database outage instead of falling back to memory; anything else as Rasa does."""
    if is_storage_outage(error):
        raise StorageUnavailable("the tracker store is unreachable") from error
    _RASA_ON_ERROR(store, error)


def on_tracker_store_retrieve_error(store: FailSafeTrackerStore, error: Exception) -> None:
    if is_storage_outage(error):
        raise StorageUnavailable("the tracker store is unreachable") from error
    _RASA_ON_RETRIEVE_ERROR(store, error)


def install() -> None:
    Agent.handle_message = handle_message
    FailSafeTrackerStore.on_tracker_store_error = on_tracker_store_error
    FailSafeTrackerStore.on_tracker_store_retrieve_error = on_tracker_store_retrieve_error
