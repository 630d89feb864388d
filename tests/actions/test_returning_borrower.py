"""A returning borrower first hears where their plan or last promise stands, in their language."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from actions.verification import ActionVerifyIdentity
from bot.agreements.service import record_promise
from bot.lifecycle.feed import record_payments
from bot.lifecycle.reconcile import reconcile
from tests.actions.conftest import make_tracker, responses, run
from tests.conftest import TODAY
from tests.unit.test_payments_feed import sign_plan

NOW = datetime.combine(TODAY, datetime.min.time())


def standing_text(messages):
    return [m["standing"] for m in messages if m.get("response") == "utter_welcome_back"]


async def test_a_newcomer_hears_no_welcome_back(services, domain):
    messages, _ = await run(ActionVerifyIdentity(), make_tracker("HCF-1001 12/04/1988", "provide_identity"), domain)
    assert responses(messages)[0] == "utter_verified" and standing_text(messages) == []


async def test_a_kept_promise_is_thanked_for(services, domain):
    with services.db.unit_of_work() as session:
        record_promise(session, conversation_id="earlier", loan_reference="HCF-1001", amount=Decimal("1250.00"),
                       due_on=TODAY + timedelta(days=5), now=NOW)
    record_payments(services.db, services.policy, [(1, {
        "payment_id": "B-1", "loan_reference": "HCF-1001", "amount": "1250.00",
        "paid_on": (TODAY + timedelta(days=1)).isoformat(), "status": "credited"})],
        now=NOW, today=TODAY + timedelta(days=1))
    messages, _ = await run(ActionVerifyIdentity(), make_tracker("HCF-1001 12/04/1988", "provide_identity"), domain)
    assert responses(messages)[:2] == ["utter_verified", "utter_welcome_back"]
    assert "payment of CNY 1,250.00 promised for" in standing_text(messages)[0]


async def test_a_plan_in_arrears_is_stated_in_chinese(services, domain):
    first = TODAY + timedelta(days=7)
    sign_plan(services.db, [(first, "400.00"), (first + timedelta(days=30), "400.00")], reference="HCF-2002")
    record_payments(services.db, services.policy, [(1, {
        "payment_id": "GF", "loan_reference": "HCF-2002", "amount": "400.00", "paid_on": first.isoformat(),
        "status": "credited"})], now=NOW, today=first)
    reconcile(services.db, services.policy, today=first + timedelta(days=35), now=NOW)
    tracker = make_tracker("HCF-2002 1992年11月3日", "provide_identity", slots={"language": "zh"})
    messages, _ = await run(ActionVerifyIdentity(), tracker, domain)
    text = standing_text(messages)[0]
    assert text.startswith("欢迎回来") and "有逾期" in text and "400.00" in text and "800.00" in text
