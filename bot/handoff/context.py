"""What an agent needs about the borrower before the first word: who, how much, why, what was offered.

`borrower_context` reads the escalation's summary (written by the handoff action), the loan and
its borrower (only once the borrower verified), the offers shown in the conversation and the
loan's earlier escalations, plus, when Rasa answered, the conversation's events for what only the
conversation holds: the borrower's own words about their hardship and when they verified.

Plain JSON-safe data; labels are codes the console translates, money is {"amount": "1234.56",
"currency": "CNY"}, times are ISO-8601 UTC ending in "Z". No conversation id in the result.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.models import Loan
from bot.agreements.models import OfferRecord
from bot.handoff.models import Escalation
from bot.handoff.queue import EscalationQueue, summary_of
from bot.risk.latest import latest_scores, score_json

EXTERNAL = "/EXTERNAL"
# Offer terms shown as rows, in this order; money rows carry the loan's currency.
OFFER_ROWS = (("monthly", "money"), ("months", "count"), ("first_payment", "date"), ("down_payment", "money"),
              ("grace_months", "count"), ("interest_waived_months", "count"), ("extension_months", "count"),
              ("waived_fees", "money"), ("waived_interest", "money"), ("written_off", "money"),
              ("good_faith_amount", "money"), ("good_faith_due", "date"), ("total_paid", "money"),
              ("concessions", "codes"))


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def money(value: Any, currency: str | None) -> dict[str, str] | None:
    """{"amount": "1234.50", "currency": "CNY"}, or None when there is no readable amount or currency."""
    if value in (None, "") or not currency:
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    return {"amount": str(amount), "currency": currency}


def _event_time(event: dict[str, Any]) -> str | None:
    stamp = event.get("timestamp")
    if not isinstance(stamp, (int, float)):
        return None
    return iso(datetime.fromtimestamp(stamp, tz=timezone.utc).replace(tzinfo=None))


def hardship_words(events: Iterable[dict[str, Any]]) -> str | None:
    """The borrower's message that last changed the hardship cause: their words, not the cause's code."""
    said, last_text, cause = None, None, None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            if text and not text.startswith(EXTERNAL):
                last_text = text
        elif kind == "slot" and event.get("name") == "hardship_cause":
            value = event.get("value")
            if value not in (None, "") and value != cause:
                said = last_text
            cause = value
    return said


def verified_at(events: Iterable[dict[str, Any]]) -> str | None:
    """When the borrower's identity check last succeeded in the conversation."""
    at = None
    for event in events:
        if event.get("event") == "slot" and event.get("name") == "verified" and event.get("value") is True:
            at = _event_time(event)
    return at


def offer_json(record: OfferRecord, currency: str) -> dict[str, Any]:
    """An offer shown to the borrower as labelled rows (labels are codes the console translates)."""
    try:
        terms = json.loads(record.terms_json or "{}")
    except ValueError:
        terms = {}
    rows: list[list[str]] = []
    for key, kind in OFFER_ROWS:
        value = terms.get(key)
        if value in (None, "", [], 0, False):
            continue
        if kind == "money":
            shown = money(value, currency)
            if shown is None or Decimal(shown["amount"]) == 0:
                continue
            rows.append([key, f"{shown['amount']} {currency}"])
        elif kind == "codes":
            rows.append([key, ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)])
        else:
            rows.append([key, str(value)])
    concessions = [c for c in (record.concessions or "").split(",") if c]
    return {"kind": concessions[0] if concessions else "plan", "summary_rows": rows, "rule": record.rule,
            "policy_version": record.policy_version, "authority": record.authority,
            "status": record.status, "shown_at": iso(record.shown_at)}


def borrower_context(session: Session, escalation: Escalation, *, events: list[dict[str, Any]] | None,
                     slots: dict[str, Any] | None, surplus_of=None) -> dict[str, Any]:
    """The context panel's data. `events`/`slots` are the Rasa tracker's (None when Rasa did not answer);
    `surplus_of(income, costs)` gives the policy's monthly surplus."""
    summary = summary_of(escalation)
    verified = bool(summary.get("verified"))
    loan_ref = summary.get("loan_ref") if verified else None
    loan = session.execute(select(Loan).where(Loan.reference == loan_ref)).scalar_one_or_none() if loan_ref else None
    currency = summary.get("currency") or (loan.currency if loan else None)
    income, costs = summary.get("monthly_income"), summary.get("monthly_costs")
    surplus = None
    if surplus_of is not None and money(income, currency) and money(costs, currency):
        surplus = money(surplus_of(Decimal(str(income)), Decimal(str(costs))), currency)
    temporary = (slots or {}).get("hardship_temporary")
    offers = session.execute(
        select(OfferRecord).where(OfferRecord.conversation_id == escalation.conversation_id[:200])
        .order_by(OfferRecord.shown_at, OfferRecord.id).limit(20)
    ).scalars().all()
    history = EscalationQueue(session).of_loan(loan_ref, excluding=escalation.id) if loan_ref else []
    cause = summary.get("hardship_cause")
    return {
        "name": loan.borrower.full_name if loan else None,
        "language": escalation.language,
        "channel_label_key": "telegram" if (escalation.channel or "").startswith("telegram") else "web",
        "verified": verified,
        "verified_at": verified_at(events) if verified and events else None,
        "loan_ref": loan_ref,
        "arrears": money(summary.get("arrears"), currency),
        "balance": money(summary.get("outstanding_balance"), currency),
        "days_past_due": summary.get("days_past_due"),
        "hardship": None if cause is None else {
            "cause": cause, "said": hardship_words(events) if events else None,
            "temporary": temporary if isinstance(temporary, bool) else None},
        "income": money(income, currency),
        "costs": money(costs, currency),
        "surplus": surplus,
        "offers": [offer_json(o, currency or "") for o in offers if o.loan_reference == loan_ref or not loan_ref],
        "history": [{"ref": f"#{e.id}", "reason": e.reason, "outcome": e.outcome, "status": e.status,
                     "created_at": iso(e.created_at), "closed_at": iso(e.closed_at)} for e in history],
        "risk": score_json(latest_scores(session, [loan_ref]).get(loan_ref)) if loan_ref else None,
    }
