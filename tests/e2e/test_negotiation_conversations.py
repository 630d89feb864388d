"""Issue 3's acceptance scenarios over the REST channel against the real servers."""
from __future__ import annotations

import re
import uuid

import pytest

pytestmark = pytest.mark.slow


def joined(replies: list[str]) -> str:
    return "\n".join(replies)


def money(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in re.findall(r"(?:CNY |¥)([\d,]+\.\d\d)", text)]


def test_alex_medical_bills_term_extension_agreement_and_document(fresh_stack):
    me = f"e2e-{uuid.uuid4().hex}"
    fresh_stack.say(me, "hi")
    assert "3,930.00" in joined(fresh_stack.say(me, "HCF-1001 12 April 1988"))
    assert "income" in joined(fresh_stack.say(me, "I had a lot of medical bills after an operation"))
    assert "essential costs" in joined(fresh_stack.say(me, "I take home 9,000 a month"))
    offers = joined(fresh_stack.say(me, "rent, food and bills come to about 7200"))
    assert "1,800.00" in offers
    first = offers.split("Option 1:")[1].split("Option 2:")[0]
    assert "extended by" in first and "spread" in first
    assert money(first)[0] <= 1260.00  # 70% of the surplus, the policy's affordability share
    confirm = joined(fresh_stack.say(me, "option 1"))
    assert "I agree" in confirm
    signed = joined(fresh_stack.say(me, "I agree"))
    reference = re.search(r"AGR-\d{8}-[0-9A-F]{6}", signed).group()
    url = re.search(r"https?://\S+/agreements/\S+", signed).group()
    assert reference in url


def test_wang_fang_job_loss_grace_period_with_interest_waived_in_chinese(fresh_stack):
    me = f"e2e-{uuid.uuid4().hex}"
    fresh_stack.say(me, "你好")
    assert "2,400.00" in joined(fresh_stack.say(me, "HCF-2002 1992年11月3日"))
    fresh_stack.say(me, "上个月我失业了，估计两个月左右能找到新工作")
    fresh_stack.say(me, "现在没有收入")
    offers = joined(fresh_stack.say(me, "每月必要开支大概三千"))
    assert "方案1" in offers and "无需还款" in offers and "减免" in offers
    assert "我同意" in joined(fresh_stack.say(me, "选第一个"))
    signed = joined(fresh_stack.say(me, "我同意"))
    assert re.search(r"AGR-\d{8}-[0-9A-F]{6}", signed)


def test_counter_offers_below_floor_and_within_limits(fresh_stack):
    me = f"e2e-{uuid.uuid4().hex}"
    fresh_stack.say(me, "HCF-1001 1988-04-12")
    fresh_stack.say(me, "I lost some hours at work so my pay was cut")
    fresh_stack.say(me, "my income is 9000 and my costs are 7200")
    refused = joined(fresh_stack.say(me, "I can only pay 500 a month"))
    assert "can't set a plan" in refused or "longer than" in refused
    assert "nearest plan" in refused
    accepted = joined(fresh_stack.say(me, "ok then can we do 1,200 per month"))
    assert "1,200.00 a month works" in accepted and "I agree" in accepted


def test_a_borrower_with_an_agreement_this_month_is_handed_to_a_person(fresh_stack):
    first = f"e2e-{uuid.uuid4().hex}"
    fresh_stack.say(first, "HCF-2002 1992-11-03")
    fresh_stack.say(first, "我失业了，大概两个月能找到工作")
    fresh_stack.say(first, "没有收入")
    fresh_stack.say(first, "开支三千")
    fresh_stack.say(first, "1")
    fresh_stack.say(first, "我同意")
    again = f"e2e-{uuid.uuid4().hex}"
    fresh_stack.say(again, "HCF-2002 1992-11-03")
    replies = joined(fresh_stack.say(again, "能不能再给我换一个还款方案"))
    tracker = fresh_stack.tracker(again)
    assert tracker["latest_event_time"] and any(e.get("event") == "pause" for e in tracker["events"]), replies
