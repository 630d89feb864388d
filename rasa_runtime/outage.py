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

The action server is the other service a turn needs. When Rasa cannot reach it (connection refused
or reset, a timeout, a balancer's 502/503/504), Rasa 3.6 logs the error, drops the action's events
and carries on: the borrower got silence, and the turn was saved without the action's answer (the
rehearsal saw a widget verification answered with nothing while an action server was killed). Now
the failed call is noted for the turn, the turn fails as above (`ActionServerUnavailable`: the same
clear answer, nothing saved) and the channel treats it as failed. An action that *answers* with an
error (500: a bug) keeps Rasa's behaviour: sending it again would fail again.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

import aiohttp
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.processor import MessageProcessor
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore
from sqlalchemy import exc as sa_exc

from channels.outage_reply import TECHNICAL_TROUBLE_REPLY

logger = logging.getLogger(__name__)

_RASA_HANDLE_MESSAGE = Agent.handle_message
_RASA_ON_ERROR = FailSafeTrackerStore.on_tracker_store_error
_RASA_ON_RETRIEVE_ERROR = FailSafeTrackerStore.on_tracker_store_retrieve_error
_RASA_REMOTE_RUN = RemoteAction.run
_RASA_RUN_ACTION = MessageProcessor._run_action
UNREACHABLE_STATUSES = (502, 503, 504)   # a balancer in front of action servers that are down or busy

# The custom actions of the turn being handled (set by `handle_message`) that could not reach the action server.
_unreachable: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("unreachable_actions", default=None)


class StorageUnavailable(RuntimeError):
    """The conversation could not be read or saved: the database is unreachable."""


class ActionServerUnavailable(RuntimeError):
    """A custom action of the turn could not reach the action server."""


def is_action_server_outage(error: BaseException | None) -> bool:
    """Whether this error (or one it came from) is the action server being unreachable, not an action's bug."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, (aiohttp.ClientConnectionError, asyncio.TimeoutError)):
            return True
        if getattr(error, "status", None) in UNREACHABLE_STATUSES:
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


async def run_remote_action(action: RemoteAction, *args: Any, **kwargs: Any) -> Any:
    """Rasa's `RemoteAction.run`; an unreachable action server is noted for the turn, then raised as Rasa does."""
    try:
        return await _RASA_REMOTE_RUN(action, *args, **kwargs)
    except Exception as error:
        unreachable = _unreachable.get()
        if unreachable is not None and is_action_server_outage(error):
            unreachable.append(action.name())
        raise


async def run_action(processor: MessageProcessor, *args: Any, **kwargs: Any) -> Any:
    """Rasa's `_run_action` (which swallows an action's failure); the turn fails if the action server was unreachable."""
    result = await _RASA_RUN_ACTION(processor, *args, **kwargs)
    unreachable = _unreachable.get()
    if unreachable:
        raise ActionServerUnavailable(f"the action server was unreachable for {unreachable[0]}")
    return result


def is_storage_outage(error: BaseException) -> bool:
    """A lost or refused database connection (not a bug in a statement)."""
    if isinstance(error, (StorageUnavailable, sa_exc.OperationalError, sa_exc.InterfaceError)):
        return True
    return isinstance(error, sa_exc.DBAPIError) and bool(error.connection_invalidated)


async def handle_message(agent: Agent, message: UserMessage) -> Any:
    """`Agent.handle_message`; on a database or action-server outage the borrower is answered, then the
    error raised on (nothing of the turn is saved)."""
    token = _unreachable.set([])
    try:
        return await _RASA_HANDLE_MESSAGE(agent, message)
    except Exception as error:
        if isinstance(error, ActionServerUnavailable):
            logger.error("rasa.action_server_unavailable %s", error)
            await _tell_borrower(message)
            raise
        if not is_storage_outage(error):
            raise
        logger.error("rasa.storage_unavailable error=%s", type(error).__name__)
        await _tell_borrower(message)
        raise StorageUnavailable("the tracker store is unreachable") from error
    finally:
        _unreachable.reset(token)


async def _tell_borrower(message: UserMessage) -> None:
    if message.output_channel is None:
        return
    try:
        await message.output_channel.send_text_message(message.sender_id, TECHNICAL_TROUBLE_REPLY)
    except Exception:  # noqa: BLE001 - the turn fails either way; the caller says why
        logger.exception("rasa.outage.reply_failed")


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
    RemoteAction.run = run_remote_action
    MessageProcessor._run_action = run_action
    FailSafeTrackerStore.on_tracker_store_error = on_tracker_store_error
    FailSafeTrackerStore.on_tracker_store_retrieve_error = on_tracker_store_retrieve_error
