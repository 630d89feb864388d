"""The account panel of a conversation, as the console shows it: `bot.handoff.account_view`'s
books turned into labelled, formatted JSON, with what matters first (where the current plan stands,
the open promise) written out as sentences.

Every state carries a text label and a tone (good | warn | bad | info | neutral): the console
colours by tone, and the label alone says the same to someone who cannot see the colour. Money is
written in the loan's currency, labels and sentences in the agent's language (channels/console/wording.py).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.handoff.account_view import AccountBooks, PaymentLine, PlanLine, PromiseLine, StateChange
from bot.language import format_money
from channels.console.wording import words

PROMISE_STATES = {"open": ("Open", "info"), "kept": ("Kept", "good"), "partly_kept": ("Partly kept", "warn"),
                  "broken": ("Broken", "bad")}
PLAN_STATES = {"pending": ("Pending first payment", "info"), "active": ("On track", "good"),
               "in_arrears": ("In arrears", "warn"), "broken": ("Broken", "bad"), "lapsed": ("Lapsed", "bad"),
               "completed": ("Completed", "good"), "superseded": ("Replaced by a later plan", "neutral")}
NOT_RECONCILED = ("Awaiting first reconciliation", "neutral")
PAYMENT_STATES = {"succeeded": ("Succeeded", "good"), "failed": ("Failed", "bad"), "returned": ("Returned", "bad")}
OUTREACH_STATES = {"active": ("Active", "good"), "paused": ("Paused", "warn"),
                   "breathing_space": ("Breathing space", "warn")}
STATES_BY_SUBJECT = {"promise": PROMISE_STATES, "agreement": PLAN_STATES, "payment": PAYMENT_STATES,
                     "outreach": OUTREACH_STATES}
SUBJECTS = {"promise": "Promise", "agreement": "Plan", "payment": "Payment", "loan": "Loan", "outreach": "Outreach"}
CAUSES = {"payment": "payment", "rule": "rule", "feed": "payment feed", "operator": "operator"}
COMPONENTS = {"fee": "fees", "late_fee": "late fees", "penalty_interest": "penalty interest",
              "interest": "interest", "principal": "principal", "unapplied": "unapplied credit"}
# How the headline says where a plan stands ("Plan AGR-… in arrears: paid … of … due").
PLAN_PHRASES = {"pending": "awaiting its first payment", "active": "on track", "in_arrears": "in arrears",
                "broken": "broken", "lapsed": "lapsed", "completed": "completed",
                "superseded": "replaced by a later plan"}


def not_available(why: str, loan_ref: str | None = None) -> dict[str, Any]:
    return {"available": False, "loan_ref": loan_ref, "why": why}


def books_json(books: AccountBooks, today: date, lang: str = "en") -> dict[str, Any]:
    """The panel's data in the agent's language: a summary first, then the plans, promises, payments and
    state changes."""
    def money(amount: Decimal | None) -> str | None:
        return None if amount is None else format_money(amount, books.currency, lang)

    return {
        "available": True,
        "loan_ref": books.loan_reference,
        "currency": books.currency,
        "summary": {
            "plan": _plan_headline(books.current_plan, money, lang),
            "promise": _promise_headline(books.open_promises, today, money, lang),
        },
        "plans": [_plan_row(plan, money, lang) for plan in books.plans],
        "promises": [_promise_row(promise, today, money, lang) for promise in books.promises],
        "payments": [_payment_row(payment, money, lang) for payment in books.payments],
        "payments_total": books.payments_total,
        "changes": [_change_row(change, _subject_names(books, money, lang), lang) for change in books.changes],
        "changes_total": books.changes_total,
    }


def state_label(states: dict[str, tuple[str, str]], state: str | None, lang: str = "en") -> dict[str, str | None]:
    label, tone = states.get(state or "", ((state or "unknown").replace("_", " ").capitalize(), "neutral"))
    return {"state": state, "label": words(lang, label), "tone": tone}


def _day(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _plan_headline(plan: PlanLine | None, money, lang: str) -> dict[str, Any] | None:
    if plan is None:
        return None
    if plan.standing is None:
        label, tone = NOT_RECONCILED
        return {"reference": plan.reference, "state": None, "label": words(lang, label), "tone": tone,
                "text": words(lang, "Plan {reference} awaiting first reconciliation (agreed {day})",
                              reference=plan.reference, day=_day(plan.accepted_at))}
    standing = plan.standing
    phrase = words(lang, PLAN_PHRASES.get(standing.state, standing.state.replace("_", " ")))
    return {"reference": plan.reference, **state_label(PLAN_STATES, standing.state, lang),
            "text": words(lang, "Plan {reference} {phrase}: paid {paid} of {due} due", reference=plan.reference,
                          phrase=phrase, paid=money(standing.paid), due=money(standing.due)),
            "since": _day(standing.changed_at)}


def _promise_headline(open_promises: tuple[PromiseLine, ...], today: date, money, lang: str) -> dict[str, Any] | None:
    if not open_promises:
        return None
    promise = open_promises[0]
    text = words(lang, "Promised {amount} by {day}", amount=money(promise.amount), day=_day(promise.due_on))
    if promise.paid > 0:
        text += words(lang, ", {paid} paid so far", paid=money(promise.paid))
    if promise.due_on < today:
        text += words(lang, ": the date has passed, not yet reconciled")
    more = len(open_promises) - 1
    if more:
        text += words(lang, " (+{more} more open)", more=more)
    return {**state_label(PROMISE_STATES, promise.status, lang), "text": text, "due_on": _day(promise.due_on),
            "overdue": promise.due_on < today}


def _plan_row(plan: PlanLine, money, lang: str) -> dict[str, Any]:
    standing = plan.standing
    state = state_label(PLAN_STATES, standing.state, lang) if standing else dict(
        zip(("state", "label", "tone"), (None, words(lang, NOT_RECONCILED[0]), NOT_RECONCILED[1])))
    terms = None
    if plan.monthly is not None and plan.months is not None:
        terms = words(lang, "{monthly} × {months} months", monthly=money(plan.monthly), months=plan.months)
    next_instalment = plan.next_instalment
    return {
        "reference": plan.reference, "accepted_on": _day(plan.accepted_at), "terms": terms,
        "total": money(plan.total), "first_due": _day(plan.first_due), "last_due": _day(plan.last_due),
        "concessions": [words(lang, c.replace("_", " ")) for c in plan.concessions],
        "next": (words(lang, "No. {number}: {amount} on {day}", number=next_instalment.number,
                       amount=money(next_instalment.amount), day=_day(next_instalment.due))
                 if next_instalment else None),
        **state,
        "paid": money(standing.paid) if standing else None, "due": money(standing.due) if standing else None,
        "since": _day(standing.changed_at) if standing else None,
    }


def _promise_row(promise: PromiseLine, today: date, money, lang: str) -> dict[str, Any]:
    return {"amount": money(promise.amount), "due_on": _day(promise.due_on), "paid": money(promise.paid),
            **state_label(PROMISE_STATES, promise.status, lang), "recorded_on": _day(promise.recorded_at),
            "settled_on": _day(promise.settled_at), "overdue": promise.status == "open" and promise.due_on < today}


def _payment_row(payment: PaymentLine, money, lang: str) -> dict[str, Any]:
    return {
        "reference": payment.reference, "amount": money(payment.amount), "paid_on": _day(payment.paid_on),
        **state_label(PAYMENT_STATES, payment.status, lang), "source": payment.source,
        "received_on": _day(payment.received_at), "note": payment.note,
        "applied": [{"component": words(lang, COMPONENTS.get(s.component, s.component.replace("_", " "))),
                     "amount": money(s.amount)} for s in payment.allocations],
    }


def _subject_names(books: AccountBooks, money, lang: str) -> dict[tuple[str, str], str]:
    """Promises are named by their row id in state changes: say which promise that is instead; the
    outreach of the loan is named by the loan, which the panel already shows."""
    names = {("promise", str(p.id)): words(lang, "Promise of {amount} due {day}", amount=money(p.amount),
                                           day=_day(p.due_on)) for p in books.promises}
    names[("outreach", books.loan_reference)] = words(lang, "Outreach")
    return names


def _change_row(change: StateChange, names: dict[tuple[str, str], str], lang: str) -> dict[str, Any]:
    states = STATES_BY_SUBJECT.get(change.subject, {})
    subject = names.get((change.subject, change.subject_id)) or (
        f"{words(lang, SUBJECTS.get(change.subject, change.subject.capitalize()))} {change.subject_id}")
    cause = words(lang, CAUSES.get(change.cause, change.cause))
    return {
        "on": _day(change.occurred_on), "recorded_at": change.recorded_at.isoformat(timespec="seconds") + "Z",
        "subject": subject,
        "from": state_label(states, change.from_state, lang) if change.from_state else None,
        "to": state_label(states, change.to_state, lang),
        "cause": f"{cause}: {change.cause_ref}" if change.cause_ref else cause,
    }
