"""The written agreement as a printable HTML page, in the borrower's language.

Every value is escaped: names and texts come from people, not from us.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from html import escape

from bot.language import format_date, format_money

LABELS = {
    "en": {
        "title": "Repayment agreement", "reference": "Agreement reference", "loan": "Loan reference",
        "parties": "Parties", "lender": "Lender", "borrower": "Borrower",
        "verified": "Identity verified", "balance": "Balance at signature", "principal": "Principal",
        "interest": "Overdue interest", "fees": "Fees and penalty interest", "concessions": "Concessions granted",
        "waived_fees": "Fees waived", "waived_interest": "Interest waived", "grace": "Grace period (months)",
        "interest_accrues": "Interest accrues during the plan", "schedule": "Payment schedule",
        "number": "No.", "due": "Due date", "amount": "Amount", "total": "Total to pay",
        "default": "Default", "dispute": "Disputes and complaints", "accepted": "Accepted",
        "policy": "Policy version", "yes": "yes", "no": "no",
    },
    "zh": {
        "title": "还款协议", "reference": "协议编号", "loan": "贷款编号", "parties": "协议双方",
        "lender": "贷款机构", "borrower": "借款人", "verified": "身份核验", "balance": "签署时余额",
        "principal": "本金", "interest": "逾期利息", "fees": "费用及罚息", "concessions": "减免与让步",
        "waived_fees": "减免费用", "waived_interest": "减免利息", "grace": "宽限期（月）",
        "interest_accrues": "计划期间是否计息", "schedule": "还款计划", "number": "期数", "due": "到期日",
        "amount": "金额", "total": "应还总额", "default": "违约", "dispute": "争议与投诉", "accepted": "确认接受",
        "policy": "政策版本", "yes": "是", "no": "否",
    },
}


def render_agreement_html(agreement_json: str, reference: str, language: str) -> str:
    record = json.loads(agreement_json)
    terms = record["terms"]
    lang = "zh" if language == "zh" else "en"
    t = LABELS[lang]
    currency = record.get("currency", "CNY")

    def money(value) -> str:
        return escape(format_money(Decimal(value), currency, lang))

    def day(value: str) -> str:
        return escape(format_date(date.fromisoformat(value), lang))

    rows = "".join(
        f"<tr><td>{i['number']}</td><td>{day(i['due'])}</td><td>{money(i['amount'])}</td></tr>"
        for i in terms["schedule"]
    )
    facts = [
        (t["reference"], escape(reference)),
        (t["loan"], escape(record["loan_reference"])),
        (t["lender"], escape(record["lender"])),
        (t["borrower"], escape(record["borrower_name"])),
        (t["verified"], escape(record["verification"])),
        (t["principal"], money(record["balance"]["principal"])),
        (t["interest"], money(record["balance"]["overdue_interest"])),
        (t["fees"], money(record["balance"]["fees"])),
        (t["concessions"], escape(", ".join(terms["concessions"]))),
        (t["waived_fees"], money(terms["waived_fees"])),
        (t["waived_interest"], money(terms["waived_interest"])),
        (t["grace"], str(int(terms["grace_months"]))),
        (t["interest_accrues"], t["yes"] if terms["interest_accrues"] else t["no"]),
        (t["total"], money(terms["total_paid"])),
        (t["default"], escape(record["default_conditions"])),
        (t["dispute"], escape(record["dispute_channel"])),
        (t["accepted"], escape(f"{record['accepted_at']} — “{record['acceptance_text']}”")),
        (t["policy"], escape(terms["policy_version"])),
    ]
    fact_rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{t['title']} {escape(reference)}</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111}}
table{{border-collapse:collapse;width:100%;margin:1rem 0}}th,td{{border:1px solid #bbb;padding:.35rem .5rem;text-align:left;vertical-align:top}}
th{{background:#f3f3f3;width:38%}}@media print{{body{{margin:0}}}}</style></head>
<body><h1>{t['title']}</h1><table>{fact_rows}</table>
<h2>{t['schedule']}</h2><table><tr><th>{t['number']}</th><th>{t['due']}</th><th>{t['amount']}</th></tr>{rows}</table>
</body></html>"""
