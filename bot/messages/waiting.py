"""What a borrower waiting for a person is told of the expected wait, in each language.

Said right after the place in the queue (domain response `utter_handoff_place`). Kept here rather
than in domain.yml: a response added there is only used after the model is retrained.
"""
from __future__ import annotations

from bot.messages.plural import counted

EXPECTED_WAIT = {
    "en": {"one": "The expected wait is about {n} minute.", "other": "The expected wait is about {n} minutes."},
    "zh": {"other": "预计等待时间约 {n} 分钟。"},
}
OVER_AN_HOUR = {"en": "The expected wait is more than an hour.", "zh": "预计等待时间超过一小时。"}


def expected_wait_text(minutes: int | None, lang: str) -> str:
    """The sentence for a rounded wait (bot.handoff.waiting.rounded_wait); None means more than an hour."""
    lang = lang if lang in EXPECTED_WAIT else "en"
    if minutes is None:
        return OVER_AN_HOUR[lang]
    return counted(minutes, lang, EXPECTED_WAIT[lang])
