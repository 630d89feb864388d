"""What borrowers are told of the desk's hours comes from the hours the desk keeps (policy.yml desk:)."""
from __future__ import annotations

from dataclasses import replace
from datetime import time

from bot.handoff.hours import desk_hours, told_hours
from bot.negotiation import load_policy
from tests.conftest import PROJECT_ROOT

DESK = load_policy(PROJECT_ROOT / "policy.yml").desk


def test_the_policys_desk_in_both_languages():
    assert desk_hours(DESK, "en") == "Mon-Fri 09:00-18:00 China Standard Time"
    assert desk_hours(DESK, "zh") == "周一至周五 09:00-18:00 北京时间"


def test_other_days_zones_and_a_desk_open_to_midnight():
    weekend = replace(DESK, open_days=(5, 6), opens=time(10), closes=time(16, 30), time_zone="Europe/London")
    assert desk_hours(weekend, "en") == "Sat, Sun 10:00-16:30 Europe/London"
    assert desk_hours(weekend, "zh") == "周六、周日 10:00-16:30 Europe/London"
    always = replace(DESK, open_days=tuple(range(7)), opens=time(0), closes=time.max)
    assert desk_hours(always, "en") == "every day 00:00-24:00 China Standard Time"
    assert desk_hours(replace(DESK, open_days=(0, 2, 4)), "zh").startswith("周一、周三、周五 ")


def test_a_lender_can_word_the_hours_itself():
    assert told_hours(DESK, "", "") == {"agent_hours": desk_hours(DESK, "en"), "agent_hours_zh": desk_hours(DESK, "zh")}
    assert told_hours(DESK, "Mon-Sat 8-20", "") == {"agent_hours": "Mon-Sat 8-20", "agent_hours_zh": desk_hours(DESK, "zh")}
