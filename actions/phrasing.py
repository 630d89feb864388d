"""Phrases assembled into responses: concession names and hardship acknowledgements per language.

Whole sentences live in domain.yml; these are the fragments an offer or an
acknowledgement is built from, which a fixed response cannot enumerate.
"""
from __future__ import annotations

from decimal import Decimal

from bot.language import format_money

CONCESSIONS = {
    "en": {
        "pay_now": "pay the arrears now",
        "promise_to_pay": "a promise to pay the arrears",
        "spread_arrears": "the overdue amount spread over the plan",
        "fee_waiver": "late fees waived ({waived_fees})",
        "grace_period": "{grace_months} month(s) with nothing to pay first",
        "term_extension": "the loan term extended by {extension_months} month(s)",
        "interest_waiver": "{interest_waived_months} month(s) of interest waived ({waived_interest})",
        "settlement_discount": "a settlement discount ({written_off})",
        "write_down": "part of the balance written off ({written_off})",
    },
    "zh": {
        "pay_now": "现在结清逾期",
        "promise_to_pay": "承诺还款",
        "spread_arrears": "逾期金额分摊到各期",
        "fee_waiver": "减免滞纳金（{waived_fees}）",
        "grace_period": "先有 {grace_months} 个月无需还款",
        "term_extension": "贷款期限延长 {extension_months} 个月",
        "interest_waiver": "减免 {interest_waived_months} 个月利息（{waived_interest}）",
        "settlement_discount": "和解折扣（{written_off}）",
        "write_down": "部分余额核销（{written_off}）",
    },
}

INTEREST = {
    "en": {True: "interest continues at the contract rate", False: "no interest is charged during the plan"},
    "zh": {True: "按合同利率计息", False: "计划期间不计利息"},
}

SEPARATOR = {"en": "; ", "zh": "；"}

CAUSES = {
    "en": {
        "illness": "health problems and medical costs", "job_loss": "losing your job",
        "reduced_income": "a drop in income", "business": "trouble with your business",
        "family": "family circumstances", "bereavement": "a bereavement", "disaster": "a disaster",
        "dispute": "a disagreement about the account", "forgot": "a missed reminder",
        "other": "what happened",
    },
    "zh": {
        "illness": "生病和医疗费用", "job_loss": "失业", "reduced_income": "收入减少", "business": "生意上的困难",
        "family": "家庭变故", "bereavement": "亲人离世", "disaster": "灾害", "dispute": "账户上的分歧",
        "forgot": "忘记还款的情况", "other": "这样的情况",
    },
}


def concessions_text(terms: dict, currency: str, lang: str) -> str:
    """The concessions of an offer, in words, e.g. "the loan term extended by 4 month(s)"."""
    values = {
        key: format_money(Decimal(terms[key]), currency, lang)
        for key in ("waived_fees", "waived_interest", "written_off")
    } | {key: terms[key] for key in ("grace_months", "extension_months", "interest_waived_months")}
    parts = [CONCESSIONS[lang][name].format(**values) for name in terms["concessions"] if name in CONCESSIONS[lang]]
    text = SEPARATOR[lang].join(parts + [INTEREST[lang][bool(terms["interest_accrues"])]])
    return text[:1].upper() + text[1:]  # it starts a sentence


def cause_text(cause: str | None, lang: str) -> str:
    return CAUSES[lang].get(cause or "other", CAUSES[lang]["other"])
