"""What the assistant sends and accepts, independent of channel: the one custom-payload shape
every output channel can send, and the length limit every input channel applies."""
from bot.messages.limits import MAX_MESSAGE_CHARS, too_long
from bot.messages.payload import Button, Link, PayloadError, RichMessage, parse_payload

__all__ = ["Button", "Link", "MAX_MESSAGE_CHARS", "PayloadError", "RichMessage", "parse_payload", "too_long"]
