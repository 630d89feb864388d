"""What a proactive contact was about, read back once the person replying has verified again.

A contact's message says nothing about the account (a limited-content message); the details
are told only after verification, and only when the loan verified is the contact's loan.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.agreements.models import Agreement, PromiseToPay
from bot.agreements.service import agreement_by_reference
from bot.outreach.models import (
    INSTALMENT_REMINDER, MISSED_INSTALMENT, MISSED_PROMISE, PROMISE_REMINDER, REASONS, Contact,
)


@dataclass(frozen=True)
class Subject:
    """The payment a contact is about: a promise, or one instalment of an agreed plan."""

    reason: str
    loan_reference: str
    amount: Decimal
    due_on: date
    agreement_reference: str | None = None  # for an instalment
    number: int | None = None               # the instalment's number in the plan
    months: int | None = None               # the plan's number of payments
    settled: bool = False                   # a promise already kept: nothing to remind of


def addressed_contact(session: Session, contact_id: object, conversation_id: str) -> Contact | None:
    """The contact `contact_id` when it was addressed to this conversation; None otherwise.

    The id comes from an `EXTERNAL_outreach` message, which anyone can type ("/EXTERNAL_outreach{...}"):
    a contact for another conversation is never taken up.
    """
    try:
        key = int(str(contact_id))
    except ValueError:
        return None
    contact = session.get(Contact, key)
    if contact is None or contact.conversation_id != conversation_id[:200] or contact.reason not in REASONS:
        return None
    return contact


def subject_of(session: Session, contact: Contact) -> Subject | None:
    """The promise or instalment the contact is about; None for a re-engagement or a subject gone."""
    kind, _, rest = contact.subject.partition(":")
    if kind == "promise" and contact.reason in (PROMISE_REMINDER, MISSED_PROMISE):
        try:
            promise = session.get(PromiseToPay, int(rest))
        except ValueError:
            return None
        if promise is None or promise.loan_reference != contact.loan_reference:
            return None
        return Subject(contact.reason, contact.loan_reference, promise.amount, promise.due_on,
                       settled=contact.reason == PROMISE_REMINDER and promise.status != "open")
    if kind == "agreement" and contact.reason in (INSTALMENT_REMINDER, MISSED_INSTALMENT):
        reference, _, number = rest.rpartition(":")
        agreement: Agreement | None = agreement_by_reference(session, reference)
        if agreement is None or agreement.loan_reference != contact.loan_reference or not number.isdigit():
            return None
        schedule = json.loads(agreement.terms_json)["terms"]["schedule"]
        line = next((item for item in schedule if int(item["number"]) == int(number)), None)
        if line is None:
            return None
        return Subject(contact.reason, contact.loan_reference, Decimal(line["amount"]),
                       date.fromisoformat(line["due"]), agreement_reference=agreement.reference,
                       number=int(number), months=len(schedule))
    return None
