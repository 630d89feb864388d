"""The Telegram channel as Rasa sees it: ``TelegramInput`` (webhook) and ``TelegramOutput``.

Register in Rasa's credentials file as ``channels.telegram.input.TelegramInput``
(keys ``token``, ``webhook_secret``, ``api_base_url``). Rasa mounts the
blueprint under ``/webhooks/telegram/``: ``POST webhook`` receives updates,
``GET /`` is a health check. Nothing here calls Telegram before the first
message has to be sent, so the server starts offline.
"""
from __future__ import annotations

import hmac
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType

from bot.messages import PayloadError, RichMessage, parse_payload, too_long
from channels.message_limit import TOO_LONG_REPLY
from channels.telegram.records import ChatRecords
from channels.telegram.dedup import Claim, UpdateLog, update_log_from_env
from channels.telegram.sender import DEFAULT_API_BASE_URL, TelegramSender

logger = logging.getLogger(__name__)

CHANNEL_NAME = "telegram"
SENDER_PREFIX = "telegram:"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What `/start` becomes: the greet intent, set by us and therefore trusted.
GREET_PAYLOAD = "/greet"
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for callback_data

_START_COMMAND = re.compile(r"^/start(?:@\w+)?(?:\s+(\S+))?\s*$", re.IGNORECASE)
# Deep-link parameters are limited by Telegram to this alphabet and length.
_START_PARAM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

TEXT_ONLY_REPLIES = {
    "en": "Sorry, I can only read text messages. Please type your message and I'll reply.",
    "zh": "抱歉，我目前只能阅读文字消息。请直接输入文字，我会尽快回复您。",
}


def sender_id_for(chat_id: int) -> str:
    """The Rasa conversation id of a Telegram chat."""
    return f"{SENDER_PREFIX}{chat_id}"


def chat_id_from_sender(sender_id: Text) -> Optional[int]:
    """The chat behind a ``telegram:<chat_id>`` conversation id; ``None`` for any other id."""
    if not isinstance(sender_id, str) or not sender_id.startswith(SENDER_PREFIX):
        return None
    try:
        return int(sender_id[len(SENDER_PREFIX):])
    except ValueError:
        return None


def reply_language(language_code: Optional[str]) -> str:
    """``zh`` for any Chinese locale Telegram reports (zh, zh-hans, zh-CN...), else ``en``."""
    return "zh" if (language_code or "").lower().startswith("zh") else "en"


def neutralise_intent_syntax(text: str) -> str:
    """Typed text can never be read by Rasa as ``/intent{entities}``: leading slashes go.

    Rasa strips the text and then checks for a leading ``/``, so slashes and
    whitespace are removed until neither leads (``" / /inform{...}"`` too).
    """
    text = text.strip()
    while text.startswith("/"):
        text = text[1:].strip()
    return text


def callback_data_for(title: str, payload: str) -> str:
    """The button's payload if it fits Telegram's 64 bytes, else its title (cut to fit)."""
    for candidate in (payload, title):
        if candidate and len(candidate.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
            if candidate is not payload:
                logger.warning("telegram.button.payload_too_long title_used=true")
            return candidate
    logger.warning("telegram.button.payload_and_title_too_long")
    return title.encode("utf-8")[:CALLBACK_DATA_LIMIT].decode("utf-8", errors="ignore")


def inline_keyboard(buttons: List[Dict[Text, Any]]) -> Optional[InlineKeyboardMarkup]:
    """Rasa buttons as an inline keyboard, one button per row (titles can be long)."""
    rows = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "").strip()
        payload = str(button.get("payload") or "").strip() or title
        if title:
            rows.append([InlineKeyboardButton(title, callback_data=callback_data_for(title, payload))])
    return InlineKeyboardMarkup(rows) if rows else None


def rich_keyboard(message: RichMessage) -> Optional[InlineKeyboardMarkup]:
    """A custom payload's buttons (callback buttons) and links (URL buttons), one per row."""
    rows = [
        [InlineKeyboardButton(b.title, callback_data=callback_data_for(b.title, b.payload))]
        for b in message.buttons
    ]
    rows += [[InlineKeyboardButton(link.title, url=link.url)] for link in message.links]
    return InlineKeyboardMarkup(rows) if rows else None


@dataclass(frozen=True)
class Inbound:
    """What one Telegram update asks of the channel.

    Exactly one of ``text`` (hand to Rasa) and ``reply`` (answer directly,
    without Rasa) is set, or neither when there is only a button to answer.
    """

    update_id: int
    chat_id: Optional[int]
    language_code: Optional[str]
    text: Optional[str] = None
    reply: Optional[str] = None
    start_param: Optional[str] = None
    callback_query_id: Optional[str] = None
    # Set when a genuine button was pressed: its keyboard is then removed.
    pressed_keyboard_message_id: Optional[int] = None

    def metadata(self) -> Dict[str, Any]:
        return {
            "channel": CHANNEL_NAME,
            "language_code": self.language_code,
            "chat_id": self.chat_id,
            "update_id": self.update_id,
            "start_param": self.start_param,
        }


def read_update(update: Update) -> Optional[Inbound]:
    """Decide what to do with an update; ``None`` means ignore it.

    Only private chats are served: a debt conversation must never happen in a
    group where other people read along.
    """
    if update.callback_query is not None:
        return _read_button_press(update)
    message = update.message or update.edited_message  # an edit counts as a new message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return None
    language_code = message.from_user.language_code if message.from_user else None
    common = dict(update_id=update.update_id, chat_id=message.chat.id, language_code=language_code)
    if message.text is None:
        return Inbound(**common, reply=TEXT_ONLY_REPLIES[reply_language(language_code)])
    start = _START_COMMAND.match(message.text.strip())
    if start:
        param = start.group(1)
        valid_param = param if param and _START_PARAM.match(param) else None
        return Inbound(**common, text=GREET_PAYLOAD, start_param=valid_param)
    text = neutralise_intent_syntax(message.text)
    return Inbound(**common, text=text) if text else None


def _read_button_press(update: Update) -> Inbound:
    query = update.callback_query
    message = query.message
    language_code = query.from_user.language_code if query.from_user else None
    base = dict(update_id=update.update_id, language_code=language_code, callback_query_id=query.id)
    if message is None or message.chat.type != ChatType.PRIVATE or not query.data:
        return Inbound(**base, chat_id=message.chat.id if message else None)
    if _is_button_of(message, query.data):
        return Inbound(
            **base, chat_id=message.chat.id, text=query.data,
            pressed_keyboard_message_id=message.message_id,
        )
    # A modified client can send any callback_data; what no button of ours carries is typed text.
    logger.warning("telegram.callback.unknown_data update_id=%s", update.update_id)
    text = neutralise_intent_syntax(query.data)
    return Inbound(**base, chat_id=message.chat.id, text=text or None)


def _is_button_of(message: Any, data: str) -> bool:
    if not isinstance(message, Message) or message.reply_markup is None:
        return False  # inaccessible (older than 48 h) messages carry no keyboard
    return any(
        button.callback_data == data
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


_UNEXPANDED = re.compile(r"^\$\{(\w+)\}$")


def _credential(credentials: Dict[Text, Any], key: str, env_name: str) -> str:
    """A credential value, falling back to ``env_name``.

    Rasa expands ``${VAR}`` only in unquoted YAML values; a quoted ``"${VAR}"``
    arrives literally and would otherwise become a publicly known secret.
    """
    value = str(credentials.get(key) or "").strip()
    unexpanded = _UNEXPANDED.match(value)
    if unexpanded:
        value = os.environ.get(unexpanded.group(1), "")
    return value or os.environ.get(env_name, "")


class TelegramOutput(OutputChannel):
    """Sends Rasa's responses to the Telegram chat named by ``telegram:<chat_id>``.

    Any other recipient id is refused, so a conversation of another channel can
    never be routed into a Telegram chat. Texts are plain (no ``parse_mode``).
    """

    def __init__(self, sender: TelegramSender) -> None:
        self.sender = sender

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        chat_id = self._chat_of(recipient_id)
        if chat_id is not None:
            await self.sender.send_text(chat_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        chat_id = self._chat_of(recipient_id)
        if chat_id is not None:
            await self.sender.send_text(chat_id, text, reply_markup=inline_keyboard(buttons))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        chat_id = self._chat_of(recipient_id)
        if chat_id is not None and not await self.sender.send_photo(chat_id, image):
            await self.sender.send_text(chat_id, image)

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, dict):
            url = attachment.get("document_url") or attachment.get("url")
            caption = attachment.get("caption")
        else:
            url, caption = str(attachment), None
        if url:
            await self._send_document_or_link(recipient_id, url, caption)

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """A custom payload in the one shape: its text with buttons and links as an inline keyboard."""
        chat_id = self._chat_of(recipient_id)
        if chat_id is None:
            return
        try:
            message = parse_payload(json_message)
        except PayloadError as error:
            # Never crash the turn: say what can be said, and log what was wrong.
            logger.error("telegram.custom_payload.invalid error=%s", error)
            text = json_message.get("text") if isinstance(json_message, dict) else None
            if isinstance(text, str) and text.strip():
                await self.sender.send_text(chat_id, text)
            return
        await self.sender.send_text(chat_id, message.text, reply_markup=rich_keyboard(message))

    async def _send_document_or_link(
        self, recipient_id: Text, url: str, caption: Optional[str]
    ) -> None:
        chat_id = self._chat_of(recipient_id)
        if chat_id is None:
            return
        # Telegram fetches the URL itself; when it cannot (private host), the link still helps.
        if not await self.sender.send_document(chat_id, url, caption=caption):
            await self.sender.send_text(chat_id, f"{caption}\n{url}" if caption else url)

    @staticmethod
    def _chat_of(recipient_id: Text) -> Optional[int]:
        chat_id = chat_id_from_sender(recipient_id)
        if chat_id is None:
            logger.error("telegram.output.foreign_recipient_refused")
        return chat_id


class TelegramInput(InputChannel):
    """Receives Telegram updates on a webhook and hands text to Rasa.

    Every request must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to
    ``webhook_secret``; without a configured secret every request is refused,
    unless ``APP_ENV=development``.
    """

    def __init__(
        self,
        token: str,
        webhook_secret: Optional[str] = None,
        api_base_url: str = DEFAULT_API_BASE_URL,
        sender: Optional[TelegramSender] = None,
        update_log: Optional[UpdateLog] = None,
        records: Optional[ChatRecords] = None,
    ) -> None:
        if not token:
            raise RasaException(
                "The telegram channel needs `token` in its credentials (or TELEGRAM_TOKEN)."
            )
        self.webhook_secret = webhook_secret or ""
        self.allow_unsigned = not self.webhook_secret and os.environ.get("APP_ENV") == "development"
        self.records = records or ChatRecords()
        self.sender = sender or TelegramSender(token, api_base_url=api_base_url, on_blocked=self.records)
        self.update_log = update_log or update_log_from_env(namespace=token.split(":", 1)[0])
        if self.allow_unsigned:
            logger.warning("telegram.webhook.unsigned_requests_allowed APP_ENV=development")
        elif not self.webhook_secret:
            logger.error("telegram.webhook.no_secret: every webhook request will be refused (403)")

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TelegramInput":
        """Reads ``token``, ``webhook_secret``, ``api_base_url``; the environment fills gaps."""
        credentials = credentials or {}
        return cls(
            token=_credential(credentials, "token", "TELEGRAM_TOKEN"),
            webhook_secret=_credential(credentials, "webhook_secret", "TELEGRAM_WEBHOOK_SECRET"),
            api_base_url=_credential(credentials, "api_base_url", "TELEGRAM_API_BASE_URL")
            or DEFAULT_API_BASE_URL,
        )

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Lets agents' messages (``output_channel=latest``) reach the borrower's chat."""
        return TelegramOutput(self.sender)

    def is_authorised(self, request: Request) -> bool:
        if not self.webhook_secret:
            return self.allow_unsigned
        offered = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(offered.encode("utf-8"), self.webhook_secret.encode("utf-8"))

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook")

        @telegram_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_authorised(request):
                logger.warning("telegram.webhook.refused remote=%s", request.remote_addr or request.ip)
                return response.json({"error": "forbidden"}, status=403)
            try:
                payload = request.json
            except Exception:  # noqa: BLE001 - Sanic raises its own error for bad JSON
                payload = None
            if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
                return response.json({"error": "not a Telegram update"}, status=400)
            status = await self.handle_update(payload, on_new_message)
            if status != 200:
                # A non-2xx makes Telegram redeliver the update later: wanted only when it is not handled yet.
                return response.json({"error": "not handled yet; redeliver later"}, status=status)
            return response.text("ok")

        @telegram_webhook.listener("after_server_stop")
        async def close_sender(app: Any, loop: Any) -> None:
            await self.sender.close()

        return telegram_webhook

    async def handle_update(
        self, payload: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> int:
        """Process one update at most once; the HTTP status to answer Telegram with.

        200 when the update was handled (or already was, or cannot be read); 503 when another
        delivery of it is in progress or processing failed: Telegram then redelivers it later,
        so a turn cut short (a process killed mid-turn, the database down) is not lost.
        """
        try:
            update = Update.de_json(payload, None)
        except Exception:  # noqa: BLE001
            logger.exception("telegram.update.unreadable update_id=%s", payload.get("update_id"))
            return 200
        claim = await self.update_log.claim(update.update_id)
        if claim is Claim.DONE:
            logger.info("telegram.update.duplicate_ignored update_id=%s", update.update_id)
            return 200
        if claim is Claim.IN_PROGRESS:
            logger.info("telegram.update.in_progress_elsewhere update_id=%s", update.update_id)
            return 503
        try:
            await self._process(update, on_new_message)
        except Exception:  # noqa: BLE001 - one failed turn must not break the webhook
            logger.exception("telegram.message.processing_failed update_id=%s", update.update_id)
            await self.update_log.release(update.update_id)
            return 503
        await self.update_log.done(update.update_id)
        return 200

    async def _process(self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Answer one claimed update; raises when the turn failed (the update is then released)."""
        try:
            inbound = read_update(update)
        except Exception:  # noqa: BLE001 - an update we cannot read would fail on every redelivery too
            logger.exception("telegram.update.unreadable update_id=%s", update.update_id)
            return
        if inbound is None:
            return
        if inbound.callback_query_id:
            await self.sender.answer_callback_query(inbound.callback_query_id)
        if inbound.pressed_keyboard_message_id is not None and inbound.chat_id is not None:
            await self.sender.remove_inline_keyboard(inbound.chat_id, inbound.pressed_keyboard_message_id)
        if inbound.chat_id is None:
            return
        if inbound.reply:
            await self.sender.send_text(inbound.chat_id, inbound.reply)
            return
        if inbound.start_param:
            await self.records.bind(inbound.chat_id, inbound.start_param)
        if not inbound.text:
            return
        if too_long(inbound.text):
            # Never handed to Rasa: no parser or NLU reads more than the limit.
            logger.warning("telegram.message.too_long chars=%s", len(inbound.text))
            await self.sender.send_text(inbound.chat_id, TOO_LONG_REPLY)
            return
        message = UserMessage(
            inbound.text,
            TelegramOutput(self.sender),
            sender_id_for(inbound.chat_id),
            input_channel=self.name(),
            message_id=f"telegram:{inbound.update_id}",
            metadata=inbound.metadata(),
        )
        await on_new_message(message)
