"""Words that must always reach a person: mentions of self-harm or suicide.

A statistical classifier can mislabel these from one training run to the next
("我要去死" as abuse); this check is deterministic and runs on every message.
It errs on the side of caution: a false alarm costs an agent a minute.
"""
from __future__ import annotations

import re

from bot.language.text import prepare

SELF_HARM = re.compile(
    r"(?ix)"
    r"\b(kill(ing)?\s+my\s*self|end(ing)?\s+(it\s+all|my\s+life)|suicid\w*|take\s+my\s+(own\s+)?life"
    r"|(don'?t|do\s+not)\s+want\s+to\s+(live|be\s+alive)|want\s+to\s+die|wanna\s+die|better\s+off\s+dead"
    r"|hurt(ing)?\s+my\s*self|self[\s-]?harm|no\s+reason\s+to\s+live|(life|living)\s+is\s+(not\s+worth|pointless)"
    r"|not\s+worth\s+living|overdos\w*|sleeping\s+pills|jump\s+off\s+(a|the|my)\s+(bridge|building|roof))\b"
    r"|自杀|轻生|不想活|活不下去|想死|我(要|想)?去死|寻死|跳楼|割腕|了结(自己|生命)|结束(自己的)?生命|一死了之|死了算了"
    r"|活着(真|都|也|还)?(没|没有)(啥|什么|有)?意思|活着(真)?没劲|不如死了|活够了"
    r"|安眠药|吃药自尽|逼死我|被逼死|把我逼死|要逼死"
)


def mentions_self_harm(text: str) -> bool:
    """True when the message mentions self-harm or suicide, in English or Chinese."""
    return bool(SELF_HARM.search(prepare(text)))
