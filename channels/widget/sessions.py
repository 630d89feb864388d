"""Server-issued widget sessions: a random conversation id and a rotating resume token.

The browser keeps only the resume token. Presenting it resumes the conversation once: the
token is replaced at the same moment (one conditional UPDATE, so of two sockets racing with
the same token exactly one wins), and only the current token's SHA-256 is stored. A token
copied from a device, a log or a screen therefore stops working as soon as the borrower's
widget reconnects, and the conversation id itself grants nothing.

The table lives in the application database (not in Rasa's memory) so sessions survive a
restart of Rasa and are shared by every Rasa worker.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, String, select, update

from bot.config import load_settings
from bot.storage import Base, Database

TOKEN_BYTES = 32
SESSION_ID_BYTES = 32  # 64 hex characters, as the widget's own ids were


class WidgetSession(Base):
    """One widget conversation and the hash of the one token that may resume it."""

    __tablename__ = "widget_sessions"
    session_id = Column(String(64), primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime(), nullable=False)
    rotated_at = Column(DateTime(), nullable=False)


@dataclass(frozen=True)
class IssuedSession:
    """What the server tells the socket: its conversation, and the token for next time."""

    session_id: str
    token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class WidgetSessions:
    """Starts and resumes widget sessions in the application database (blocking calls)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def start(self) -> IssuedSession:
        """A new conversation with its first resume token."""
        issued = IssuedSession(secrets.token_hex(SESSION_ID_BYTES), secrets.token_urlsafe(TOKEN_BYTES))
        now = _now()
        with self.database.unit_of_work() as session:
            session.add(WidgetSession(session_id=issued.session_id, token_hash=token_hash(issued.token),
                                      created_at=now, rotated_at=now))
        return issued

    def resume(self, token: str) -> IssuedSession | None:
        """The conversation `token` resumes, with a new token; None if the token is not current."""
        if not token or len(token) > 200:
            return None
        presented = token_hash(token)
        fresh = secrets.token_urlsafe(TOKEN_BYTES)
        with self.database.unit_of_work() as session:
            session_id = session.execute(
                select(WidgetSession.session_id).where(WidgetSession.token_hash == presented)
            ).scalar_one_or_none()
            if session_id is None:
                return None
            rotated = session.execute(
                update(WidgetSession)
                .where(WidgetSession.session_id == session_id, WidgetSession.token_hash == presented)
                .values(token_hash=token_hash(fresh), rotated_at=_now())
            ).rowcount
        return IssuedSession(session_id, fresh) if rotated == 1 else None


def sessions_from_settings() -> WidgetSessions:
    """The sessions store on the application database named by the settings (DATABASE_URL)."""
    return WidgetSessions(Database(load_settings().database_url))
