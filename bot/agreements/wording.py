"""Concessions, interest and plan facts in the borrower's words, per language.

Shared by what the bot says in chat (`actions/`) and the written agreement (`document.py`),
so the borrower reads the same words in both. Internal names (`spread_arrears`) never show.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.language import format_date, format_money
from bot.messages.plural import counted


def months_text(count: int, lang: str) -> str:
    """"1 month" / "4 months" / "4 个月"."""
    if lang == "zh":
        return counted(count, lang, {"other": "{n} 个月"})
    return counted(count, lang, {"one": "{n} month", "other": "{n} months"})


CONCESSIONS = {
    "en": {
        "pay_now": "pay the arrears now",
        "promise_to_pay": "a promise to pay the arrears",
        "spread_arrears": "the overdue amount spread over the plan",
        "fee_waiver": "late fees waived ({waived_fees})",
        "grace_period": "{grace_months} with nothing to pay after the first {good_faith_amount}",
        "term_extension": "the loan term extended by {extension_months}",
        "interest_waiver": "{interest_waived_months} of interest waived ({waived_interest})",
        "settlement_discount": "a settlement discount ({written_off})",
        "write_down": "part of the balance written off ({written_off})",
    },
    "zh": {
        "pay_now": "现在结清逾期",
        "promise_to_pay": "承诺还款",
        "spread_arrears": "逾期金额分摊到各期",
        "fee_waiver": "减免滞纳金（{waived_fees}）",
        "grace_period": "首付 {good_faith_amount} 后有 {grace_months}无需还款",
        "term_extension": "贷款期限延长 {extension_months}",
        "interest_waiver": "减免 {interest_waived_months}利息（{waived_interest}）",
        "settlement_discount": "和解折扣（{written_off}）",
        "write_down": "部分余额核销（{written_off}）",
    },
}

INTEREST = {
    "en": {True: "interest continues at the contract rate", False: "no interest is charged during the plan"},
    "zh": {True: "按合同利率计息", False: "计划期间不计利息"},
}

SEPARATOR = {"en": "; ", "zh": "；"}


def concession_phrases(terms: dict, currency: str, lang: str) -> list[str]:
    """Each concession of an offer in words, e.g. "the loan term extended by 4 months"."""
    values = {
        key: format_money(Decimal(terms.get(key) or "0"), currency, lang)
        for key in ("waived_fees", "waived_interest", "written_off", "good_faith_amount")
    } | {key: months_text(int(terms[key]), lang)
         for key in ("grace_months", "extension_months", "interest_waived_months")}
    return [CONCESSIONS[lang][name].format(**values) for name in terms["concessions"] if name in CONCESSIONS[lang]]


def concessions_text(terms: dict, currency: str, lang: str) -> str:
    """The concessions and the interest rule of an offer as one sentence."""
    parts = concession_phrases(terms, currency, lang) + [INTEREST[lang][bool(terms["interest_accrues"])]]
    text = SEPARATOR[lang].join(parts)
    return text[:1].upper() + text[1:]  # it starts a sentence


GOOD_FAITH = {
    "en": "The plan starts once {amount} is paid by {due}.",
    "zh": "请在 {due} 前支付 {amount}，方案即生效。",
}


def regular_start(terms: dict) -> str:
    """ISO date of the first regular instalment: after a grace plan's good-faith payment, the row after it."""
    schedule = terms.get("schedule") or []
    if int(terms.get("grace_months") or 0) > 0 and len(schedule) > 1:
        return schedule[1]["due"]
    return schedule[0]["due"] if schedule else terms["first_payment"]


def good_faith_text(terms: dict, currency: str, lang: str) -> str:
    """The one rule for the good-faith payment, as the offer, the terms, the document and the console state it.

    A plan becomes active once its good-faith payment arrives within the policy's days: for a
    grace plan the policy's small amount, otherwise the first instalment (DOMAIN.md).
    """
    due = terms.get("good_faith_due")
    amount = terms.get("good_faith_amount")
    if not due or not amount or Decimal(amount) <= 0:
        return ""
    return GOOD_FAITH[lang].format(amount=format_money(Decimal(amount), currency, lang),
                                   due=format_date(date.fromisoformat(due), lang))
