"""Recording offers, promises and agreements, and the history the anti-stalling rules read."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.lifecycle.models import PlanStanding
from bot.negotiation import History


def record_offer(session: Session, *, conversation_id: str, loan_reference: str, terms: dict,
                 now: datetime) -> int:
    """Store an offer as shown; returns its id (the handle the conversation keeps)."""
    record = OfferRecord(
        conversation_id=conversation_id[:200], loan_reference=loan_reference,
        concessions=",".join(terms["concessions"]), monthly=terms["monthly"], months=terms["months"],
        total_paid=terms["total_paid"], authority=terms["authority"], rule=terms["rule"][:500],
        policy_version=terms["policy_version"], terms_json=json.dumps(terms, ensure_ascii=False),
        shown_at=now, status="shown",
    )
    session.add(record)
    session.flush()
    return record.id


def offer_by_id(session: Session, offer_id: int, loan_reference: str, conversation_id: str) -> dict | None:
    """The terms of an offer shown in this conversation for this loan; None for any other offer."""
    record = session.get(OfferRecord, offer_id)
    if record is None or record.loan_reference != loan_reference or record.conversation_id != conversation_id[:200]:
        return None
    return json.loads(record.terms_json)


def negotiation_history(session: Session, loan_reference: str, now: datetime) -> History:
    """Plans agreed (and broken) in the last 12 months and promises open or broken, for anti-stalling."""
    year_ago = now - timedelta(days=365)
    agreements = session.execute(
        select(func.count()).select_from(Agreement).where(
            Agreement.loan_reference == loan_reference, Agreement.accepted_at >= year_ago)
    ).scalar_one()
    promises = session.execute(
        select(PromiseToPay.status, func.count()).where(PromiseToPay.loan_reference == loan_reference)
        .group_by(PromiseToPay.status)
    ).all()
    counts = dict(promises)
    broken_plans = session.execute(
        select(func.count()).select_from(PlanStanding).where(
            PlanStanding.loan_reference == loan_reference, PlanStanding.state == "broken",
            PlanStanding.changed_at >= year_ago)
    ).scalar_one()
    # A promise paid only in part was not kept: it counts toward broken_promises_limit.
    return History(renegotiations_last_12_months=agreements,
                   broken_promises=counts.get("broken", 0) + counts.get("partly_kept", 0),
                   open_promises=counts.get("open", 0), broken_plans=broken_plans)


def record_promise(session: Session, *, conversation_id: str, loan_reference: str, amount, due_on: date,
                   now: datetime) -> int:
    promise = PromiseToPay(conversation_id=conversation_id[:200], loan_reference=loan_reference, amount=amount,
                           due_on=due_on, status="open", recorded_at=now)
    session.add(promise)
    session.flush()
    return promise.id


def new_agreement_reference(now: datetime) -> str:
    return f"AGR-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


@dataclass(frozen=True)
class Signed:
    """The agreement for an offer, and whether this call wrote it (False: it existed already)."""

    agreement: Agreement
    created: bool


def agreement_for_offer(session: Session, offer_record_id: int) -> Agreement | None:
    return session.execute(
        select(Agreement).where(Agreement.offer_record_id == offer_record_id)).scalar_one_or_none()


def sign_agreement(session: Session, *, conversation_id: str, loan_reference: str, borrower_name: str,
                   language: str, terms: dict, offer_record_id: int, record: dict,
                   acceptance_text: str, now: datetime) -> Signed:
    """Write the immutable agreement for an offer, once: a repeated or retried acceptance of the
    same offer returns the agreement already signed (the unique constraint on `offer_record_id`
    settles two acceptances racing in different processes)."""
    existing = agreement_for_offer(session, offer_record_id)
    if existing is not None:
        return Signed(existing, created=False)
    agreement = Agreement(
        reference=new_agreement_reference(now), loan_reference=loan_reference,
        conversation_id=conversation_id[:200], offer_record_id=offer_record_id, borrower_name=borrower_name,
        language=language, policy_version=terms["policy_version"],
        terms_json=json.dumps({**record, "terms": terms}, ensure_ascii=False),
        acceptance_text=acceptance_text[:2000], accepted_at=now,
    )
    try:
        with session.begin_nested():
            session.add(agreement)
            session.flush()
    except IntegrityError:
        winner = agreement_for_offer(session, offer_record_id)
        if winner is None:
            raise
        return Signed(winner, created=False)
    offer = session.get(OfferRecord, offer_record_id)
    if offer is not None:
        offer.status = "accepted"
    session.flush()
    return Signed(agreement, created=True)


def latest_agreement(session: Session, loan_reference: str, *, conversation_id: str | None = None
                     ) -> Agreement | None:
    """The loan's most recent agreement (signed in `conversation_id`, when given): the plan
    account questions are answered from."""
    query = select(Agreement).where(Agreement.loan_reference == loan_reference)
    if conversation_id is not None:
        query = query.where(Agreement.conversation_id == conversation_id[:200])
    return session.execute(query.order_by(Agreement.accepted_at.desc(), Agreement.id.desc()).limit(1)
                           ).scalar_one_or_none()


def agreement_by_reference(session: Session, reference: str) -> Agreement | None:
    return session.execute(select(Agreement).where(Agreement.reference == reference)).scalar_one_or_none()
