"""Every response the assistant can send, in both languages, stays clear of the red lines:
no threats, false urgency, legal claims, pressure to borrow or sell, insults."""
from __future__ import annotations

import re

import pytest
import yaml

from actions.phrasing import CAUSES, CONCESSIONS, INTEREST
from tests.conftest import PROJECT_ROOT

RED_LINES = {
    "en": [
        r"\bcourt\b", r"\bsue\b", r"\blawsuit", r"\blegal action", r"\bpolice\b", r"\barrest", r"\bjail\b",
        r"\bprison\b", r"\bbailiff", r"\bseiz", r"\blast chance\b", r"\bfinal warning\b", r"\bor else\b",
        r"\bimmediately\b", r"\burgent(ly)?\b", r"\bbefore it'?s too late\b", r"\bborrow (money )?from\b",
        r"\bsell (your|the) (house|car|property|belongings)", r"\bcredit (record|score) (will be )?ruin",
        r"\bshame", r"\bstupid\b", r"\bliar\b", r"\bdeadbeat\b", r"\bcriminal", r"\bblacklist",
        r"\bemployer\b", r"\bfamily will\b", r"\bneighbou?rs\b",
    ],
    "zh": [
        "起诉", "法院", "诉讼", "警察", "公安", "拘留", "坐牢", "判刑", "最后通牒", "最后机会", "后果自负", "立即还款",
        "马上还", "否则", "借钱还", "网贷", "卖房", "变卖", "卖车", "黑名单", "老赖", "骗子", "丢人", "曝光",
        "通讯录", "单位", "家人会",
    ],
}


def response_texts() -> list[tuple[str, str, str]]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    texts = []
    for name, variations in domain["responses"].items():
        for variation in variations:
            zh = any(c.get("value") == "zh" for c in variation.get("condition", []) or [])
            texts.append((name, "zh" if zh else "en", variation.get("text", "")))
    for lang in ("en", "zh"):
        for table in (CONCESSIONS, CAUSES):
            texts += [(f"phrasing:{key}", lang, text) for key, text in table[lang].items()]
        texts += [("phrasing:interest", lang, text) for text in INTEREST[lang].values()]
    return texts


ALL = response_texts()


def test_every_response_has_a_chinese_and_an_english_variation():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    for name, variations in domain["responses"].items():
        langs = {("zh" if any(c.get("value") == "zh" for c in v.get("condition", []) or []) else "en")
                 for v in variations}
        assert langs == {"en", "zh"}, name


@pytest.mark.parametrize("name,lang,text", ALL, ids=[f"{n}-{l}" for n, l, _ in ALL])
def test_no_response_crosses_a_red_line(name, lang, text):
    for pattern in RED_LINES[lang]:
        assert not re.search(pattern, text, flags=re.IGNORECASE), f"{name} ({lang}) matches {pattern!r}: {text}"


def test_the_red_line_check_itself_catches_a_threat():
    threats = [("en", "Pay immediately or we will take you to court."), ("zh", "再不还款我们就起诉你，后果自负。")]
    for lang, text in threats:
        assert any(re.search(p, text, flags=re.IGNORECASE) for p in RED_LINES[lang])
