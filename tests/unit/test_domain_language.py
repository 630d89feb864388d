"""What Chinese-speaking borrowers read is Chinese: no English-only setting in a Chinese response,
and counted words follow the language's plural rules."""
from __future__ import annotations

import re

import yaml

from bot.agreements.wording import months_text
from bot.config import load_settings
from bot.handoff.hours import told_hours
from bot.negotiation import load_policy
from bot.messages.plural import counted
from tests.conftest import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
ENGLISH_ONLY_SETTINGS = {"lender_contact", "agent_hours", "crisis_line"}  # each has a *_zh twin


def chinese_variants():
    for name, variants in DOMAIN["responses"].items():
        for variant in variants:
            conditions = variant.get("condition") or []
            if any(c.get("name") == "language" and c.get("value") == "zh" for c in conditions):
                yield name, variant.get("text") or str(variant.get("custom") or "")


def test_chinese_responses_use_the_chinese_settings():
    offenders = [(name, field) for name, text in chinese_variants()
                 for field in re.findall(r"\{(\w+)\}", text) if field in ENGLISH_ONLY_SETTINGS]
    assert offenders == []


def test_every_configurable_text_has_a_chinese_default_in_chinese():
    settings = load_settings()
    for field in ENGLISH_ONLY_SETTINGS - {"agent_hours"}:
        assert re.search(r"[\u4e00-\u9fff]", getattr(settings, f"{field}_zh")), field
    # The desk's hours are written from policy.yml unless AGENT_HOURS(_ZH) word them.
    told = told_hours(load_policy(settings.policy_path).desk, settings.agent_hours, settings.agent_hours_zh)
    assert re.search(r"[\u4e00-\u9fff]", told["agent_hours_zh"])


def test_counted_words_follow_the_plural_rules():
    assert [months_text(n, "en") for n in (0, 1, 2)] == ["0 months", "1 month", "2 months"]
    assert months_text(1, "zh") == "1 个月"
    forms = {"one": "{n} attempt", "other": "{n} attempts"}
    assert [counted(n, "en", forms) for n in (1, 2)] == ["1 attempt", "2 attempts"]
