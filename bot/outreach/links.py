"""Deep links that bind a chat to a borrower, so follow-up can write there first.

Telegram lets a bot write only to chats that started it. A lender sends its borrower a link
`https://t.me/<bot>?start=<token>` (by letter, SMS or e-mail, from `python -m bot.cli chat-link LOAN`);
opening it sends `/start <token>` from the borrower's chat, and the Telegram channel binds that chat to the
token's loan. The binding makes the chat the borrower's own chat for reminders (like a chat in which they
verified); it discloses nothing: whoever replies still verifies before hearing an amount or a date.

A token is random (24 bytes), kept only as its SHA-256, used once, and expires. Used again from the chat it
bound, it changes nothing; from another chat, or expired, or unknown, it binds nothing.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.accounts.models import Loan
from bot.outreach.models import ChatLink

LINK_LIFETIME = timedelta(days=30)
TELEGRAM = "telegram"
# What the binding did, for the channel's log (never shown to the person who opened the link).
BOUND, ALREADY_BOUND, EXPIRED, UNKNOWN, TAKEN = "bound", "already_bound", "expired", "unknown", "taken"


class NoSuchLoan(LookupError):
    pass


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_link(session: Session, loan_reference: str, *, by: str, now: datetime,
               channel: str = TELEGRAM, lifetime: timedelta = LINK_LIFETIME) -> str:
    """A new one-use token for this loan's borrower (shown once; only its hash is stored)."""
    if session.execute(select(Loan.id).where(Loan.reference == loan_reference)).first() is None:
        raise NoSuchLoan(f"no loan {loan_reference} in the books")
    token = secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]: inside Telegram's start parameter rules
    session.add(ChatLink(token_hash=_digest(token), loan_reference=loan_reference, channel=channel,
                         created_by=by, created_at=now, expires_at=now + lifetime))
    return token


def telegram_url(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={token}"


@dataclass(frozen=True)
class Binding:
    outcome: str
    loan_reference: str | None = None


def bind_chat(session: Session, token: str, *, conversation_id: str, channel: str, now: datetime) -> Binding:
    """Bind `conversation_id` to the token's loan, once. Two chats racing for one token: one wins."""
    link = session.execute(select(ChatLink).where(ChatLink.token_hash == _digest(token),
                                                  ChatLink.channel == channel)).scalar_one_or_none()
    if link is None:
        return Binding(UNKNOWN)
    if link.used_at is not None:
        same = link.conversation_id == conversation_id
        return Binding(ALREADY_BOUND if same else TAKEN, link.loan_reference if same else None)
    if now >= link.expires_at:
        return Binding(EXPIRED)
    won = session.execute(
        update(ChatLink).where(ChatLink.id == link.id, ChatLink.used_at.is_(None))
        .values(used_at=now, conversation_id=conversation_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    return Binding(BOUND, link.loan_reference) if won == 1 else Binding(TAKEN)


def bound_chats(session: Session, loan_references) -> list[ChatLink]:
    """The chats bound to these loans by a used link, newest first."""
    return list(session.execute(
        select(ChatLink).where(ChatLink.loan_reference.in_(loan_references), ChatLink.used_at.is_not(None))
        .order_by(ChatLink.used_at.desc(), ChatLink.id.desc())
    ).scalars())
