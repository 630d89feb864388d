"""The written agreement as a printable HTML page, every clause in the borrower's language.

Every value is escaped: names and texts come from people, not from us.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from html import escape

from bot.agreements.wording import INTEREST, concession_phrases, good_faith_text, months_text, regular_start
from bot.language import format_date, format_money

LABELS = {
    "en": {
        "title": "Repayment agreement", "summary": "You pay {monthly} a month for {months}, starting on {first}.",
        "reference": "Agreement reference", "loan": "Loan reference",
        "lender": "Lender", "borrower": "Borrower", "monthly": "Monthly payment", "months": "Number of payments",
        "first": "First payment", "verified": "Identity verified", "principal": "Principal at signature",
        "interest": "Overdue interest at signature", "fees": "Fees and penalty interest at signature",
        "concessions": "What the lender agreed to", "none": "none",
        "interest_rule": "Interest", "schedule": "Payment schedule",
        "number": "No.", "due": "Due date", "amount": "Amount", "total": "Total to pay",
        "default": "If a payment is late", "dispute": "Disputes and complaints", "accepted": "You accepted",
        "policy": "Policy version", "good_faith": "When the plan starts",
        "verification": "with your loan reference and date of birth, in {channel}, on {when}",
        "default_rule": "A payment more than {days} days late ends this plan; the remaining balance is then "
                        "handled under the original contract.",
        "accepted_on": "on {when}, writing “{text}”",
    },
    "zh": {
        "title": "还款协议", "summary": "您每月还款 {monthly}，共 {months}，首期还款日为 {first}。",
        "reference": "协议编号", "loan": "贷款编号",
        "lender": "贷款机构", "borrower": "借款人", "monthly": "每月还款", "months": "还款期数",
        "first": "首期还款日", "verified": "身份核验", "principal": "签署时本金",
        "interest": "签署时逾期利息", "fees": "签署时费用及罚息", "concessions": "贷款机构同意的减免与安排",
        "none": "无", "interest_rule": "利息", "schedule": "还款计划", "number": "期数", "due": "到期日",
        "amount": "金额", "total": "应还总额", "default": "逾期后果", "dispute": "争议与投诉",
        "accepted": "您的确认", "policy": "政策版本", "good_faith": "方案生效条件",
        "verification": "通过贷款编号和出生日期核验（{channel}），时间：{when}",
        "default_rule": "任何一期逾期超过 {days} 天，本计划即终止，剩余欠款按原合同处理。",
        "accepted_on": "{when}，您回复“{text}”",
    },
}

CHANNELS = {
    "en": {"socketio": "the web chat", "telegram": "Telegram", "rest": "the chat"},
    "zh": {"socketio": "网页聊天", "telegram": "Telegram", "rest": "聊天"},
}


def moment_text(value: str, lang: str) -> str:
    """An ISO timestamp (UTC) as the borrower reads it: "1 December 2026, 15:04 UTC"."""
    moment = datetime.fromisoformat(value.rstrip("Z"))
    return f"{format_date(moment.date(), lang)} {moment:%H:%M} UTC" if lang == "zh" \
        else f"{format_date(moment.date(), lang)}, {moment:%H:%M} UTC"


def _verification(record: dict, lang: str) -> str:
    verification = record["verification"]
    if isinstance(verification, str):  # agreements signed before the wording was structured
        return verification
    channel = CHANNELS[lang].get(verification.get("channel") or "", CHANNELS[lang]["rest"])
    when = moment_text(verification["verified_at"], lang) if verification.get("verified_at") else "-"
    return LABELS[lang]["verification"].format(channel=channel, when=when)


def _default_rule(record: dict, lang: str) -> str:
    if "default_after_days_late" in record:
        return LABELS[lang]["default_rule"].format(days=int(record["default_after_days_late"]))
    return record["default_conditions"]  # agreements signed before the wording was structured


def render_agreement_html(agreement_json: str, reference: str, language: str) -> str:
    """The agreement for the borrower: what they pay first, then what was agreed, then the record."""
    record = json.loads(agreement_json)
    terms = record["terms"]
    lang = "zh" if language == "zh" else "en"
    t = LABELS[lang]
    currency = record.get("currency", "CNY")

    def money(value) -> str:
        return escape(format_money(Decimal(value), currency, lang))

    def day(value: str) -> str:
        return escape(format_date(date.fromisoformat(value), lang))

    schedule = terms["schedule"]
    first_due = regular_start(terms)  # the first of the monthly payments (a grace plan's token comes before)
    good_faith = good_faith_text(terms, currency, lang)
    rows = "".join(
        f"<tr><td>{i['number']}</td><td>{day(i['due'])}</td><td>{money(i['amount'])}</td></tr>"
        for i in schedule
    )
    concessions = [escape(p) for p in concession_phrases(terms, currency, lang)]
    facts = [
        (t["monthly"], money(terms["monthly"])),
        (t["months"], escape(months_text(int(terms["months"]), lang))),
        (t["first"], day(first_due)),
        (t["total"], money(terms["total_paid"])),
        *([(t["good_faith"], escape(good_faith))] if good_faith else []),
        (t["concessions"], "<br>".join(concessions) or t["none"]),
        (t["interest_rule"], escape(INTEREST[lang][bool(terms["interest_accrues"])])),
        (t["reference"], escape(reference)),
        (t["loan"], escape(record["loan_reference"])),
        (t["lender"], escape(record["lender"])),
        (t["borrower"], escape(record["borrower_name"])),
        (t["verified"], escape(_verification(record, lang))),
        (t["principal"], money(record["balance"]["principal"])),
        (t["interest"], money(record["balance"]["overdue_interest"])),
        (t["fees"], money(record["balance"]["fees"])),
        (t["default"], escape(_default_rule(record, lang))),
        (t["dispute"], escape(record["dispute_channel"])),
        (t["accepted"], escape(t["accepted_on"].format(when=moment_text(record["accepted_at"], lang),
                                                      text=record["acceptance_text"]))),
        (t["policy"], escape(terms["policy_version"])),
    ]
    summary = escape(t["summary"].format(monthly=format_money(Decimal(terms["monthly"]), currency, lang),
                                         months=months_text(int(terms["months"]), lang),
                                         first=format_date(date.fromisoformat(first_due), lang)))
    fact_rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{t['title']} {escape(reference)}</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111}}
.summary{{font-size:1.25rem;font-weight:600}}
table{{border-collapse:collapse;width:100%;margin:1rem 0}}th,td{{border:1px solid #bbb;padding:.35rem .5rem;text-align:left;vertical-align:top}}
th{{background:#f3f3f3;width:38%}}@media print{{body{{margin:0}}}}</style></head>
<body><h1>{t['title']}</h1><p class="summary">{summary}</p><table>{fact_rows}</table>
<h2>{t['schedule']}</h2><table><tr><th>{t['number']}</th><th>{t['due']}</th><th>{t['amount']}</th></tr>{rows}</table>
</body></html>"""
