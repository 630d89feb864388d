"""Builders for follow-up tests: a borrower with a loan and a verified chat, promises, agreements."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from bot.accounts.models import Borrower, Loan
from bot.agreements.models import Agreement, PromiseToPay
from bot.config import PROJECT_ROOT
from bot.lifecycle.models import PlanStanding
from bot.negotiation.policy import load_policy
from bot.verification.models import VerifiedSession

POLICY = load_policy(PROJECT_ROOT / "policy.yml")


def borrower_with_chat(session, reference: str, *, time_zone: str | None = "Asia/Shanghai",
                       jurisdiction: str | None = None, channel: str = "telegram",
                       verified_at: datetime = datetime(2026, 11, 20, 9, 0), language: str = "en") -> str:
    """A borrower with one loan and a verified chat on `channel`; returns the conversation id."""
    borrower = Borrower(full_name=f"Borrower {reference}", date_of_birth=date(1990, 1, 1),
                        preferred_language=language, time_zone=time_zone, jurisdiction=jurisdiction)
    session.add(borrower)
    session.flush()
    session.add(Loan(reference=reference, borrower_id=borrower.id, currency="CNY", principal=Decimal("1000.00"),
                     annual_rate=Decimal("0.1"), contractual_instalment=Decimal("100.00"),
                     start_date=date(2026, 1, 1)))
    conversation_id = f"{channel}:{reference}"
    session.add(VerifiedSession(conversation_id=conversation_id, loan_reference=reference, channel=channel,
                                verified_at=verified_at, last_seen_at=verified_at))
    session.flush()
    return conversation_id


def promise(session, reference: str, due_on: date, *, status: str = "open",
            recorded_at: datetime = datetime(2026, 11, 20, 9, 5)) -> PromiseToPay:
    row = PromiseToPay(conversation_id=f"telegram:{reference}", loan_reference=reference, amount=Decimal("50.00"),
                       due_on=due_on, status=status, recorded_at=recorded_at, paid=Decimal("0"))
    session.add(row)
    session.flush()
    return row


def agreement(session, reference: str, dues: list[date], *, state: str | None = "active",
              paid: Decimal = Decimal("0"), accepted_at: datetime = datetime(2026, 11, 20, 9, 5)) -> Agreement:
    schedule = [{"number": n, "due": due.isoformat(), "amount": "100.00"} for n, due in enumerate(dues, 1)]
    row = Agreement(reference=f"AGR-{reference}", loan_reference=reference, conversation_id=f"telegram:{reference}",
                    borrower_name="B", language="en", policy_version="t",
                    terms_json=json.dumps({"terms": {"schedule": schedule}}), acceptance_text="yes",
                    accepted_at=accepted_at)
    session.add(row)
    session.flush()
    if state is not None:
        session.add(PlanStanding(agreement_id=row.id, loan_reference=reference, state=state, paid=paid,
                                 due=Decimal("0"), changed_at=accepted_at))
        session.flush()
    return row
