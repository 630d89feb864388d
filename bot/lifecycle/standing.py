"""What a returning borrower is told first: where their plan or their last promise stands.

Read from what reconciliation recorded (`PlanStanding`, the promise's status), in the borrower's language.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.agreements.models import Agreement, PromiseToPay
from bot.language import format_date, format_money
from bot.lifecycle.models import PlanStanding

RECENT_PROMISE = timedelta(days=90)  # an older settled promise is history, not news

PLAN_TEXT = {
    "en": {
        "pending": "Welcome back. Your plan {ref} starts once its first payment of {first} arrives (due {first_due}).",
        "active": "Welcome back. Your plan {ref} is up to date: {paid} paid so far. Thank you.",
        "in_arrears": "Welcome back. Your plan {ref} is behind: {paid} paid of the {due} due so far.",
        "broken": "Welcome back. Your plan {ref} has ended because a payment was more than {days} days late.",
        "lapsed": "Welcome back. Your plan {ref} did not start: its first payment did not arrive.",
        "completed": "Welcome back. Your plan {ref} is fully paid. Thank you.",
    },
    "zh": {
        "pending": "欢迎回来。您的还款计划 {ref} 在首期 {first} 到账后生效（应于 {first_due} 前支付）。",
        "active": "欢迎回来。您的还款计划 {ref} 按时进行中：目前已还 {paid}。谢谢您。",
        "in_arrears": "欢迎回来。您的还款计划 {ref} 有逾期：截至目前应还 {due}，已还 {paid}。",
        "broken": "欢迎回来。由于有一期逾期超过 {days} 天，您的还款计划 {ref} 已终止。",
        "lapsed": "欢迎回来。您的还款计划 {ref} 未能生效：首期款项未到账。",
        "completed": "欢迎回来。您的还款计划 {ref} 已全部还清。谢谢您。",
    },
}
PROMISE_TEXT = {
    "en": {
        "open": "Welcome back. You promised to pay {amount} by {date}; {paid} has arrived so far.",
        "kept": "Welcome back. Your payment of {amount} promised for {date} has arrived. Thank you.",
        "partly_kept": "Welcome back. Your promise to pay {amount} by {date} was kept only in part: {paid} arrived.",
        "broken": "Welcome back. The {amount} you promised to pay by {date} did not arrive.",
    },
    "zh": {
        "open": "欢迎回来。您承诺在 {date} 前还款 {amount}，目前已到账 {paid}。",
        "kept": "欢迎回来。您承诺在 {date} 前支付的 {amount} 已到账。谢谢您。",
        "partly_kept": "欢迎回来。您承诺在 {date} 前还款 {amount}，只到账了 {paid}。",
        "broken": "欢迎回来。您承诺在 {date} 前支付的 {amount} 未到账。",
    },
}


@dataclass(frozen=True)
class StandingNews:
    kind: str   # plan | promise
    state: str
    text: str


def standing_news(session: Session, reference: str, currency: str, lang: str, now: datetime,
                  default_after_days: int) -> StandingNews | None:
    """The plan's standing (the newest agreement, once reconciled), else a recent promise; None for neither."""
    lang = "zh" if lang == "zh" else "en"
    row = session.execute(
        select(Agreement, PlanStanding).join(PlanStanding, PlanStanding.agreement_id == Agreement.id)
        .where(Agreement.loan_reference == reference, PlanStanding.state != "superseded")
        .order_by(Agreement.accepted_at.desc(), Agreement.id.desc()).limit(1)).first()

    def money(amount: Decimal) -> str:
        return format_money(amount, currency, lang)

    if row is not None:
        agreement, standing = row
        schedule = json.loads(agreement.terms_json)["terms"]["schedule"]
        first = schedule[0] if schedule else {"amount": "0.00", "due": agreement.accepted_at.date().isoformat()}
        text = PLAN_TEXT[lang][standing.state].format(
            ref=agreement.reference, paid=money(standing.paid), due=money(standing.due),
            first=money(Decimal(first["amount"])), days=default_after_days,
            first_due=format_date(datetime.fromisoformat(first["due"]).date(), lang))
        return StandingNews("plan", standing.state, text)
    promise = session.execute(
        select(PromiseToPay).where(PromiseToPay.loan_reference == reference)
        .order_by(PromiseToPay.recorded_at.desc(), PromiseToPay.id.desc()).limit(1)).scalar_one_or_none()
    if promise is None or (promise.status != "open" and (promise.settled_at or promise.recorded_at) < now - RECENT_PROMISE):
        return None
    text = PROMISE_TEXT[lang][promise.status].format(
        amount=money(promise.amount), paid=money(promise.paid or Decimal("0.00")),
        date=format_date(promise.due_on, lang))
    return StandingNews("promise", promise.status, text)
