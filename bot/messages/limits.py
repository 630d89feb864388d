"""How long a borrower's message may be before the assistant reads it.

Every input channel (REST, the widget's socket.io, Telegram) refuses a longer message with a
clear answer before NLU or any parser sees it, so no parser ever works on more than this.
2,000 characters is several paragraphs of English or Chinese; Telegram's own limit is 4,096.
"""
from __future__ import annotations

MAX_MESSAGE_CHARS = 2000


def too_long(text: str | None) -> bool:
    return text is not None and len(text) > MAX_MESSAGE_CHARS
