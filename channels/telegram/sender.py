"""Sending to Telegram chats: splitting, throttling and retrying around ``telegram.Bot``.

Every public ``TelegramSender`` method logs and swallows Telegram failures and
returns whether it worked: a message that cannot be delivered must never crash
the server or abort the Rasa turn that produced it.
"""
from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import time
import warnings
from typing import Awaitable, Callable, Dict, List, Optional, TypeVar

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
# Telegram's limit for one text message, counted in UTF-16 code units.
MESSAGE_LIMIT = 4096
# Break points, best first: paragraph, line, end of a sentence (Chinese has no spaces), word.
_SEPARATORS = ("\n\n", "\n")
_SENTENCE_ENDS = ("。", "！", "？", "；", ". ", "! ", "? ")

T = TypeVar("T")


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (characters outside the BMP count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _longest_prefix_within(text: str, limit: int) -> str:
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def _break_point(window: str) -> int:
    """Where to cut ``window``: the best boundary in its second half, else its end."""
    half = len(window) // 2
    for separator in _SEPARATORS:
        index = window.rfind(separator)
        if index >= half:
            return index
    sentence_end = max(window.rfind(end) + len(end.rstrip()) for end in _SENTENCE_ENDS)
    if sentence_end >= half:
        return sentence_end
    index = window.rfind(" ")
    if index >= half:
        return index
    return len(window)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> List[str]:
    """Split ``text`` into non-empty parts of at most ``limit`` units.

    Cuts fall on paragraph, line, sentence or word boundaries when one exists in
    the second half of a part; only the whitespace at a cut is dropped.
    """
    parts: List[str] = []
    rest = text.strip()
    while rest:
        if utf16_length(rest) <= limit:
            parts.append(rest)
            break
        window = _longest_prefix_within(rest, limit)
        cut = max(_break_point(window), 1)
        part, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if part:
            parts.append(part)
    return parts


class _TokenBucket:
    """``rate`` sends per second with bursts of ``capacity``; reservations may go negative."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def reserve(self, now: float) -> float:
        """Take one token and return how long to wait before using it."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def idle(self, now: float) -> bool:
        return self.tokens + (now - self.updated) * self.rate >= self.capacity


class SendThrottle:
    """Keeps within Telegram's flood limits: ~1 message/s per chat, ~30/s overall.

    A chat may burst a few messages (a reply of 2-3 bubbles goes out at once);
    sustained sending is paced. Reservation happens without awaiting, so
    concurrent senders on one event loop get distinct slots.
    """

    MAX_TRACKED_CHATS = 10_000

    def __init__(
        self,
        per_chat_rate: float = 1.0,
        per_chat_burst: float = 3,
        global_rate: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._per_chat_rate = per_chat_rate
        self._per_chat_burst = per_chat_burst
        self._clock = clock
        self._sleep = sleep
        self._global = _TokenBucket(global_rate, global_rate, clock())
        self._chats: Dict[int, _TokenBucket] = {}

    def reserve(self, chat_id: Optional[int]) -> float:
        """Book the next send slot and return the delay until it."""
        now = self._clock()
        delay = self._global.reserve(now)
        if chat_id is not None:
            bucket = self._chats.get(chat_id)
            if bucket is None:
                self._forget_idle_chats(now)
                bucket = self._chats[chat_id] = _TokenBucket(
                    self._per_chat_rate, self._per_chat_burst, now
                )
            delay = max(delay, bucket.reserve(now))
        return delay

    async def wait_turn(self, chat_id: Optional[int]) -> None:
        delay = self.reserve(chat_id)
        if delay > 0:
            await self._sleep(delay)

    def _forget_idle_chats(self, now: float) -> None:
        if len(self._chats) >= self.MAX_TRACKED_CHATS:
            for chat_id in [c for c, b in self._chats.items() if b.idle(now)]:
                del self._chats[chat_id]


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns while moving from int to timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


class TelegramSender:
    """One bot's outgoing side: text (split), inline keyboards, documents, callback answers.

    The ``telegram.Bot`` is created on first use and never ``initialize()``-d
    (that would call ``getMe``): nothing here touches the network until a
    message is actually sent.
    """

    def __init__(
        self,
        token: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        throttle: Optional[SendThrottle] = None,
        max_attempts: int = 3,
        retry_backoff: float = 0.5,
        max_retry_after: float = 30.0,
        on_blocked: Optional[Callable[[int], Awaitable[None]]] = None,
    ) -> None:
        self._token = token
        # Called with the chat id when Telegram answers 403 (the user blocked the bot): the
        # channel records it as an opt-out, because Rasa's HTTP answer never carries it.
        self._on_blocked = on_blocked
        self._api_base_url = api_base_url
        self._throttle = throttle or SendThrottle()
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._max_retry_after = max_retry_after
        self._bot: Optional[Bot] = None
        self._requests: List[HTTPXRequest] = []

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            _keep_token_out_of_logs()
            self._requests = [
                HTTPXRequest(connection_pool_size=1),  # getUpdates (polling only)
                HTTPXRequest(
                    connection_pool_size=16,
                    pool_timeout=5.0,
                    connect_timeout=5.0,
                    read_timeout=10.0,
                    write_timeout=10.0,
                ),
            ]
            self._bot = Bot(
                self._token,
                base_url=self._api_base_url,
                get_updates_request=self._requests[0],
                request=self._requests[1],
            )
        return self._bot

    async def close(self) -> None:
        """Close the HTTP connection pools (the Bot itself was never initialised)."""
        for request in self._requests:
            await request.shutdown()
        self._requests = []
        self._bot = None

    async def send_text(
        self, chat_id: int, text: str, reply_markup: Optional[InlineKeyboardMarkup] = None
    ) -> bool:
        """Send ``text`` as one or more plain-text messages; the keyboard goes on the last."""
        parts = split_message(text) or (["…"] if reply_markup else [])  # Telegram needs some text
        if not parts:
            return True
        delivered = True
        for index, part in enumerate(parts):
            markup = reply_markup if index == len(parts) - 1 else None
            sent = await self._call(
                "sendMessage",
                chat_id,
                lambda part=part, markup=markup: self.bot.send_message(
                    chat_id=chat_id, text=part, reply_markup=markup
                ),
            )
            delivered = delivered and sent is not None
        return delivered

    async def send_document(self, chat_id: int, url: str, caption: Optional[str] = None) -> bool:
        """Ask Telegram to fetch ``url`` and deliver it as a file."""
        sent = await self._call(
            "sendDocument",
            chat_id,
            lambda: self.bot.send_document(chat_id=chat_id, document=url, caption=caption),
        )
        return sent is not None

    async def send_photo(self, chat_id: int, url: str, caption: Optional[str] = None) -> bool:
        sent = await self._call(
            "sendPhoto",
            chat_id,
            lambda: self.bot.send_photo(chat_id=chat_id, photo=url, caption=caption),
        )
        return sent is not None

    async def answer_callback_query(self, callback_query_id: str) -> bool:
        """Stop the button's loading spinner in the borrower's app."""
        done = await self._call(
            "answerCallbackQuery",
            None,
            lambda: self.bot.answer_callback_query(callback_query_id=callback_query_id),
        )
        return done is not None

    async def remove_inline_keyboard(self, chat_id: int, message_id: int) -> bool:
        """Take the buttons off a message once one was pressed (no double submissions)."""
        done = await self._call(
            "editMessageReplyMarkup",
            None,
            lambda: self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            ),
        )
        return done is not None

    async def _call(
        self, method: str, chat_id: Optional[int], request: Callable[[], Awaitable[T]]
    ) -> Optional[T]:
        """Run one Bot API call with throttling and up to ``max_attempts`` attempts.

        Retried: 429 (after Telegram's ``retry_after``) and 5xx / network errors
        (exponential backoff). Not retried: 400 (a bad request stays bad), 403
        (the borrower blocked the bot) and other API errors. Returns ``None`` on
        failure; never raises.
        """
        for attempt in range(1, self._max_attempts + 1):
            await self._throttle.wait_turn(chat_id)
            try:
                return await request()
            except RetryAfter as error:
                wait = _retry_after_seconds(error)
                if wait > self._max_retry_after:
                    logger.error(
                        "telegram.send.flood_wait_too_long method=%s chat_id=%s retry_after=%s",
                        method, chat_id, wait,
                    )
                    return None
            except BadRequest as error:
                logger.error("telegram.send.rejected method=%s chat_id=%s error=%s", method, chat_id, error)
                return None
            except Forbidden as error:
                logger.error("telegram.send.forbidden method=%s chat_id=%s error=%s", method, chat_id, error)
                await self._report_blocked(chat_id)
                return None
            except NetworkError as error:
                wait = self._retry_backoff * 2 ** (attempt - 1)
                logger.warning(
                    "telegram.send.network_error method=%s chat_id=%s attempt=%s error=%s",
                    method, chat_id, attempt, error,
                )
            except TelegramError as error:
                logger.error("telegram.send.failed method=%s chat_id=%s error=%s", method, chat_id, error)
                return None
            except Exception:  # noqa: BLE001 - a send must never take the server down
                logger.exception("telegram.send.unexpected_error method=%s chat_id=%s", method, chat_id)
                return None
            if attempt < self._max_attempts:
                await asyncio.sleep(wait)
        logger.error(
            "telegram.send.gave_up method=%s chat_id=%s attempts=%s", method, chat_id, self._max_attempts
        )
        return None


    async def _report_blocked(self, chat_id: Optional[int]) -> None:
        if chat_id is None or self._on_blocked is None:
            return
        try:
            await self._on_blocked(chat_id)
        except Exception:  # noqa: BLE001 - recording must never break the send path
            logger.exception("telegram.send.blocked_not_recorded chat_id=%s", chat_id)


def _keep_token_out_of_logs() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs contain the bot token."""
    httpx_logger = logging.getLogger("httpx")
    if httpx_logger.level == logging.NOTSET:
        httpx_logger.setLevel(logging.WARNING)
