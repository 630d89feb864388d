"""The agent queue: open, list, claim, annotate, decide offers, hand back and close escalations.

One repository per unit of work, like `bot.accounts.repository`. The summary
stored with an escalation is JSON with this shape (every key optional except
`verified` and `language`):

    {"verified": bool, "loan_ref": str, "arrears": "1234.56", "currency": "CNY",
     "days_past_due": int, "language": "en"|"zh", "triggered_by": intent,
     "hardship_cause": str, "monthly_income": str, "monthly_costs": str,
     "offers_made": str, "proposed_offer": {offer}, "last_messages": [str],
     "reasons": [{"reason": str, "priority": int, "at": iso}]}

An offer (proposed or approved) is JSON: {"monthly": "500.00", "months": 6,
"first_payment": "2026-12-05", "total": "3000.00", "currency": "CNY",
"authority": "bot"|"agent"|"supervisor", ...any further keys kept as given}.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, false, or_, select, update
from sqlalchemy.orm import Session

from bot.accounts.models import Borrower, Loan

from bot.risk.latest import latest_scores
from bot.handoff.models import (
    AGENT, CLAIMED, CLOSED, SUPERVISOR, WAITING, Escalation, EscalationNote,
)

HANDED_BACK = "handed_back"
# The console triggers the hand-back intent right after recording it; later, nothing is waiting.
HAND_BACK_WINDOW = timedelta(minutes=10)

OUTCOMES = (HANDED_BACK, "plan_agreed", "dispute_logged", "referred_to_support", "message_taken",
            "no_response", "resolved_other")

# Who may approve an offer that needs a given authority.
_APPROVERS = {"bot": {AGENT, SUPERVISOR}, AGENT: {AGENT, SUPERVISOR}, SUPERVISOR: {SUPERVISOR}}


LIST_LIMIT = 200
PREVIEW_CHARS = 280
_ESCALATION_NUMBER = re.compile(r"#?\s*(\d{1,9})")


class Refusal(Exception):
    """A step the queue refuses. `str()` is the English sentence; `template` and `params` let a front end
    word it in the agent's language (channels/console/wording.py names messages by these templates)."""

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template.format(**params))
        self.template, self.params = template, params


class NotAllowed(Refusal, PermissionError):
    """The agent's role or assignment does not allow this step."""


class Conflict(Refusal, RuntimeError):
    """The step lost a race or contradicts the escalation's state (someone else got there first)."""


@dataclass(frozen=True)
class QueueFilter:
    """What an agent narrowed the queue to; every field optional.

    `text` matches the escalation number ("42" or "#42"), the loan reference, the borrower's
    name (once verified) and the borrower's words (latest message and the handoff summary).
    """

    text: str = ""
    language: str | None = None
    reason: str | None = None
    priority: int | None = None
    min_age_minutes: int | None = None
    agent: str | None = None


def _matches(escalation: Escalation, text: str, loan_refs: set[str]) -> bool:
    number = _ESCALATION_NUMBER.fullmatch(text)
    if number and int(number.group(1)) == escalation.id:
        return True
    summary, wanted = summary_of(escalation), text.casefold()
    loan_ref = summary.get("loan_ref")
    if isinstance(loan_ref, str) and (loan_ref in loan_refs or wanted in loan_ref.casefold()):
        return True
    words = [escalation.last_borrower_text or ""] + [m for m in summary.get("last_messages") or []
                                                      if isinstance(m, str)]
    return any(wanted in w.casefold() for w in words)


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally (escape: backslash)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def summary_of(escalation: Escalation) -> dict[str, Any]:
    try:
        return json.loads(escalation.summary or "{}")
    except ValueError:
        return {}


def approved_offer_of(escalation: Escalation) -> dict[str, Any] | None:
    if not escalation.approved_offer:
        return None
    try:
        return json.loads(escalation.approved_offer)
    except ValueError:
        return None


class EscalationQueue:
    """Escalations and notes, read and changed inside one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- opening -----------------------------------------------------------------
    def open_for(self, conversation_id: str) -> Escalation | None:
        """The conversation's open (waiting or claimed) escalation, if any."""
        return self.session.execute(
            select(Escalation).where(Escalation.conversation_id == conversation_id, Escalation.status != CLOSED)
        ).scalars().first()

    def latest_for(self, conversation_id: str) -> Escalation | None:
        """The conversation's most recent escalation, open or closed."""
        return self.session.execute(
            select(Escalation).where(Escalation.conversation_id == conversation_id)
            .order_by(Escalation.id.desc()).limit(1)
        ).scalars().first()

    def open(
        self, *, conversation_id: str, channel: str | None, reason: str, priority: int,
        summary: dict[str, Any], language: str, now: datetime,
    ) -> tuple[Escalation, bool]:
        """Open an escalation, or update the conversation's open one; returns it and whether it is new.

        A second trigger keeps the queue position (created_at), takes the more
        urgent priority and its reason, and refreshes the summary.
        """
        entry = {"reason": reason, "priority": priority, "at": now.isoformat(timespec="seconds")}
        existing = self.open_for(conversation_id)
        if existing is None:
            escalation = Escalation(
                conversation_id=conversation_id[:200], channel=channel, reason=reason, priority=priority,
                summary=json.dumps({**summary, "reasons": [entry]}, ensure_ascii=False),
                status=WAITING, created_at=now, language=language,
            )
            self.session.add(escalation)
            self.session.flush()
            return escalation, True
        previous = summary_of(existing)
        merged = {**previous, **{k: v for k, v in summary.items() if v not in (None, "", [])}}
        merged["reasons"] = previous.get("reasons", []) + [entry]
        if priority < existing.priority:
            existing.priority, existing.reason = priority, reason
        existing.summary = json.dumps(merged, ensure_ascii=False)
        existing.language = language
        self.session.flush()
        return existing, False

    # -- listing -----------------------------------------------------------------
    def _ordered(self, *conditions):
        """Open before closed, most urgent priority first; within a priority the riskiest loan first (the
        early-warning score, bot/risk), then the oldest. Loans never scored come after scored ones."""
        rows = self.session.execute(
            select(Escalation).where(*conditions)
            .order_by(case((Escalation.status == CLOSED, 1), else_=0), Escalation.priority,
                      Escalation.created_at, Escalation.id)
            .limit(LIST_LIMIT)
        ).scalars().all()
        risk = self.risk_of(rows)
        return sorted(rows, key=lambda e: (e.status == CLOSED, e.priority, -risk.get(e.id, -1.0),
                                           e.created_at, e.id))

    def risk_of(self, escalations) -> dict[int, float]:
        """Escalation id -> the newest risk probability of its verified loan."""
        loans = {}
        for escalation in escalations:
            summary = summary_of(escalation)
            if summary.get("verified") and summary.get("loan_ref"):
                loans[escalation.id] = summary["loan_ref"]
        scores = latest_scores(self.session, loans.values())
        return {eid: scores[ref].probability for eid, ref in loans.items() if ref in scores}

    def search(self, view: str, username: str, wanted: QueueFilter, now: datetime) -> list[Escalation]:
        """The view ("waiting", "mine" or "all") narrowed by `wanted`, in queue order."""
        conditions = {"waiting": [Escalation.status == WAITING],
                      "mine": [Escalation.status == CLAIMED, Escalation.claimed_by == username],
                      "all": []}[view]
        if wanted.language:
            conditions.append(Escalation.language == wanted.language)
        if wanted.reason:
            conditions.append(Escalation.reason == wanted.reason)
        if wanted.priority is not None:
            conditions.append(Escalation.priority == wanted.priority)
        if wanted.min_age_minutes is not None:
            conditions.append(Escalation.created_at <= now - timedelta(minutes=wanted.min_age_minutes))
        if wanted.agent:
            conditions.append(Escalation.claimed_by == wanted.agent)
        text = wanted.text.strip()
        if not text:
            return list(self._ordered(*conditions))
        condition, loan_refs = self._matching(text)
        # The summary is searched as JSON text in SQL; keep only rows that match in the borrower's
        # words or the loan, not in a key or another field of the summary.
        return [e for e in self._ordered(*conditions, condition) if _matches(e, text, loan_refs)]

    def _matching(self, text: str):
        pattern = _like(text)
        in_json = _like(json.dumps(text, ensure_ascii=False)[1:-1])
        loan_refs = set(self.session.execute(
            select(Loan.reference).join(Borrower, Loan.borrower_id == Borrower.id)
            .where(or_(Borrower.full_name.like(pattern, escape="\\"), Loan.reference.like(pattern, escape="\\")))
            .limit(50)
        ).scalars().all())
        matches = [Escalation.last_borrower_text.like(pattern, escape="\\"),
                   Escalation.summary.like(in_json, escape="\\")]
        matches += [Escalation.summary.like(_like(f'"loan_ref": {json.dumps(ref)}'), escape="\\")
                    for ref in sorted(loan_refs)]
        number = _ESCALATION_NUMBER.fullmatch(text)
        matches.append(Escalation.id == int(number.group(1)) if number else false())
        return or_(*matches), loan_refs

    def waiting(self) -> list[Escalation]:
        """Unclaimed escalations in queue order (priority, then risk, then age)."""
        return list(self._ordered(Escalation.status == WAITING))

    def mine(self, username: str) -> list[Escalation]:
        """Escalations this agent has claimed and not closed."""
        return list(self._ordered(Escalation.status == CLAIMED, Escalation.claimed_by == username))

    def all(self) -> list[Escalation]:
        """Every escalation (open ones first), for supervisors."""
        return list(self._ordered())

    def claims_since(self, priority: int, since: datetime) -> list[tuple[datetime, datetime]]:
        """(created_at, claimed_at) of the escalations of this priority opened since `since` and claimed
        (the data of a waiting borrower's expected wait, bot/handoff/waiting.py). A reopened escalation's
        claim says nothing of a wait from its opening, and is left out; a transfer moves `claimed_at` on,
        so a transferred one counts as waiting until the transfer (an overestimate, on the safe side)."""
        return [(row.created_at, row.claimed_at) for row in self.session.execute(
            select(Escalation.created_at, Escalation.claimed_at)
            .where(Escalation.priority == priority, Escalation.created_at >= since,
                   Escalation.claimed_at.is_not(None), Escalation.reopened_at.is_(None))
        )]

    def agents_working(self, since: datetime) -> int:
        """How many agents hold an escalation now or claimed one since `since`."""
        return len(set(self.session.execute(
            select(Escalation.claimed_by).where(
                Escalation.claimed_by.is_not(None),
                or_(Escalation.status == CLAIMED, Escalation.claimed_at >= since))
        ).scalars()))

    def get(self, escalation_id: int) -> Escalation | None:
        return self.session.get(Escalation, escalation_id)

    # -- claiming ----------------------------------------------------------------
    def claim(self, escalation_id: int, username: str, now: datetime) -> bool:
        """Atomically claim a waiting escalation: of any number of agents racing, exactly one wins."""
        result = self.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.status == WAITING)
            .values(status=CLAIMED, claimed_by=username, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        self.session.flush()
        return result.rowcount == 1

    def release(self, escalation_id: int, username: str, role: str) -> None:
        """Put a claimed escalation back in the waiting queue (its holder, or a supervisor); one winner."""
        holder = [] if role == SUPERVISOR else [Escalation.claimed_by == username]
        result = self.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.status == CLAIMED, *holder)
            .values(status=WAITING, claimed_by=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Conflict("only its holder or a supervisor can release a claimed conversation, "
                           "and it is not claimed by you now")

    def transfer(self, escalation: Escalation, to: str, username: str, role: str, now: datetime) -> None:
        """Hand an escalation to another agent (its holder, or a supervisor, also for a waiting one).

        Conditional on the holder read here: of two transfers at once, one wins, the other gets Conflict.
        A note "transferred from A to B" records it.
        """
        if escalation.status == CLOSED:
            raise Conflict("this conversation is closed; reopen it first")
        if role != SUPERVISOR and (escalation.status != CLAIMED or escalation.claimed_by != username):
            raise NotAllowed("only its holder or a supervisor can transfer a conversation")
        if escalation.claimed_by == to:
            raise Conflict("{agent} holds this conversation already", agent=to)
        held_by, status = escalation.claimed_by, escalation.status
        result = self.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation.id, Escalation.status == status,
                   Escalation.claimed_by.is_(None) if held_by is None else Escalation.claimed_by == held_by)
            .values(status=CLAIMED, claimed_by=to, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Conflict("someone else moved this conversation first; reload it")
        self.add_note(escalation.id, username, f"transferred from {held_by or 'the queue'} to {to}", now)
        self.session.refresh(escalation)

    def reopen_closed(self, escalation: Escalation, username: str, role: str, now: datetime) -> None:
        """A closed escalation waits for an agent again (a supervisor, or the agent who held it)."""
        if escalation.status != CLOSED:
            raise Conflict("this conversation is not closed")
        if role != SUPERVISOR and escalation.claimed_by != username:
            raise NotAllowed("only a supervisor or the agent who closed it can reopen a conversation")
        if self.open_for(escalation.conversation_id) is not None:
            raise Conflict("this borrower already has an open escalation")
        result = self.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation.id, Escalation.status == CLOSED)
            .values(status=WAITING, claimed_by=None, claimed_at=None, closed_at=None, outcome=None,
                    reopened_at=now, first_agent_reply_at=None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Conflict("someone else reopened this conversation first")
        self.add_note(escalation.id, username, "reopened", now)
        self.session.refresh(escalation)

    def record_agent_reply(self, escalation_id: int, now: datetime) -> None:
        """Stop the first-reply clock (only the first reply counts)."""
        self.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.first_agent_reply_at.is_(None))
            .values(first_agent_reply_at=now)
            .execution_options(synchronize_session=False)
        )

    def record_borrower_message(self, conversation_id: str, text: str, at: datetime) -> int | None:
        """Keep the borrower's latest words on the conversation's open escalation; returns its id."""
        escalation = self.open_for(conversation_id)
        if escalation is None:
            return None
        if escalation.last_borrower_at is None or at >= escalation.last_borrower_at:
            escalation.last_borrower_text, escalation.last_borrower_at = text[:1000], at
            self.session.flush()
        return escalation.id

    def borrower_names(self, loan_refs: set[str]) -> dict[str, str]:
        """{loan reference: borrower's full name} for the given loans (one query)."""
        if not loan_refs:
            return {}
        rows = self.session.execute(
            select(Loan.reference, Borrower.full_name).join(Borrower, Loan.borrower_id == Borrower.id)
            .where(Loan.reference.in_(sorted(loan_refs)))
        ).all()
        return {reference: name for reference, name in rows}

    def of_loan(self, loan_ref: str, *, excluding: int | None = None) -> list[Escalation]:
        """Escalations whose summary names this loan, newest first."""
        rows = self.session.execute(
            select(Escalation).where(Escalation.summary.like(_like(f'"loan_ref": {json.dumps(loan_ref)}'),
                                                              escape="\\"))
            .order_by(Escalation.id.desc()).limit(50)
        ).scalars().all()
        return [e for e in rows if e.id != excluding and summary_of(e).get("loan_ref") == loan_ref]

    @staticmethod
    def ensure_can_act(escalation: Escalation, username: str, role: str) -> None:
        """Only the agent holding a claimed escalation (or a supervisor) may act on it."""
        if escalation.status != CLAIMED:
            raise NotAllowed("claim the conversation first")
        if escalation.claimed_by != username and role != SUPERVISOR:
            raise NotAllowed("claimed by {agent}", agent=escalation.claimed_by)

    # -- notes -------------------------------------------------------------------
    def add_note(self, escalation_id: int, author: str, text: str, now: datetime) -> EscalationNote:
        note = EscalationNote(escalation_id=escalation_id, author=author, text=text[:4000], created_at=now)
        self.session.add(note)
        self.session.flush()
        return note

    def notes(self, escalation_id: int) -> list[EscalationNote]:
        return list(self.session.execute(
            select(EscalationNote).where(EscalationNote.escalation_id == escalation_id)
            .order_by(EscalationNote.created_at, EscalationNote.id)
        ).scalars().all())

    # -- offers ------------------------------------------------------------------
    def approve_offer(self, escalation: Escalation, username: str, role: str, now: datetime) -> dict[str, Any]:
        """Approve the summary's proposed offer within the role's authority; it is then presented on hand-back."""
        offer = summary_of(escalation).get("proposed_offer")
        if not isinstance(offer, dict):
            raise NotAllowed("there is no proposed offer to approve")
        if not may_approve(escalation, role):
            raise NotAllowed("an offer needing {authority} authority can't be approved by an {role}",
                             authority=authority_needed(offer), role=role)
        approved = {**offer, "approved_by": username, "approved_at": now.isoformat(timespec="seconds")}
        escalation.approved_offer = json.dumps(approved, ensure_ascii=False)
        self._decide(escalation, "approved", username, now)
        return approved

    def reject_offer(self, escalation: Escalation, username: str, now: datetime, why: str = "") -> None:
        escalation.approved_offer = None
        self._decide(escalation, "rejected", username, now, why)

    def _decide(self, escalation: Escalation, decision: str, username: str, now: datetime, why: str = "") -> None:
        summary = summary_of(escalation)
        summary["offer_decision"] = {"decision": decision, "by": username, "at": now.isoformat(timespec="seconds")}
        escalation.summary = json.dumps(summary, ensure_ascii=False)
        self.add_note(escalation.id, username, f"Offer {decision}" + (f": {why}" if why else ""), now)

    # -- ending ------------------------------------------------------------------
    def hand_back(self, escalation: Escalation, now: datetime) -> None:
        """The bot takes over again: the escalation is closed with the outcome `handed_back`."""
        summary = summary_of(escalation)
        if summary.pop("hand_back_taken_at", None):  # an earlier hand-back that Rasa could not complete
            escalation.summary = json.dumps(summary, ensure_ascii=False)
        self.close(escalation, HANDED_BACK, now)

    def take_hand_back(self, conversation_id: str, now: datetime) -> Escalation | None:
        """The conversation's hand-back that the console recorded in the last few minutes, once.

        The bot acts on a hand-back only through this: a borrower who types the console's intent
        finds nothing here, and a hand-back is taken at most once (compare-and-set on the summary,
        so two deliveries at once cannot both take it).
        """
        escalation = self.latest_for(conversation_id)
        if (escalation is None or escalation.status != CLOSED or escalation.outcome != HANDED_BACK
                or escalation.closed_at is None or not now - HAND_BACK_WINDOW <= escalation.closed_at <= now):
            return None
        summary = summary_of(escalation)
        if summary.get("hand_back_taken_at"):
            return None
        taken = json.dumps({**summary, "hand_back_taken_at": now.isoformat(timespec="seconds")}, ensure_ascii=False)
        result = self.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation.id, Escalation.summary == escalation.summary)
            .values(summary=taken)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        self.session.refresh(escalation)
        return escalation

    def close(self, escalation: Escalation, outcome: str, now: datetime) -> None:
        """Close an open escalation. Atomic: of two agents closing or handing back at once, one
        wins and the other gets NotAllowed (nothing is done twice on the borrower's side)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        result = self.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation.id, Escalation.status != CLOSED)
            .values(status=CLOSED, outcome=outcome, closed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise NotAllowed("this conversation was closed or handed back already")
        self.session.refresh(escalation)

    def reopen(self, escalation_id: int, outcome: str) -> bool:
        """Undo `close` when the bot could not take the conversation back: claimed again, by the same agent."""
        result = self.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.status == CLOSED, Escalation.outcome == outcome)
            .values(status=CLAIMED, outcome=None, closed_at=None)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def authority_needed(offer: dict[str, Any]) -> str:
    """The authority an offer needs; one that does not say (a borrower's counter-offer) needs a supervisor."""
    authority = offer.get("authority")
    return authority if authority in _APPROVERS else SUPERVISOR


def may_approve(escalation: Escalation, role: str) -> bool:
    """Whether `role` may approve the escalation's proposed offer (policy.yml's authority tiers)."""
    offer = summary_of(escalation).get("proposed_offer")
    return isinstance(offer, dict) and role in _APPROVERS.get(authority_needed(offer), {SUPERVISOR})
