"""Mentions of self-harm are recognised deterministically, in both languages."""
from __future__ import annotations

import pytest

from bot.language.safety import mentions_self_harm


@pytest.mark.parametrize("text", [
    "I want to end it all", "dont want to live any more", "i might kill myself", "thinking about suicide",
    "I'd be better off dead", "我要去死", "不想活了", "活不下去了", "我想自杀", "真想一死了之",
    "感觉活着没啥意思", "活着真没意思", "我活够了", "life is pointless now", "life is not worth living",
    "i took an overdose", "saving up sleeping pills", "我已经买好安眠药了", "你们要逼死我吗", "最近老有轻生的念头",
])
def test_self_harm_is_recognised(text):
    assert mentions_self_harm(text)


@pytest.mark.parametrize("text", [
    "I will kill this debt", "I could die of boredom", "my father died last year", "你去死吧",
    "how much do I owe", "死机了", "", "这个方案没意思", "this plan is pointless", "worth living in Shanghai?",
])
def test_ordinary_messages_are_not_flagged(text):
    assert not mentions_self_harm(text)
