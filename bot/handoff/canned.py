"""Canned replies: short texts an agent inserts with "/shortcut", filled from the borrower's account.

A reply's body may name `{name}`, `{arrears}` and `{next_due}`; `fill` puts in the verified
borrower's values, or a bracketed placeholder in the reply's language that the agent sees and
replaces before sending ("[arrears unknown]"), never an empty gap. Any other `{word}` is left as
written. Supervisors manage the replies; archiving keeps the row (and frees its shortcut).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.handoff.models import CannedReply

LANGUAGES = ("en", "zh")
SHORTCUT = re.compile(r"[a-z0-9_-]{1,32}")
MAX_TITLE = 100
MAX_BODY = 2000
VARIABLES = ("name", "arrears", "next_due")
_VARIABLE = re.compile(r"\{(" + "|".join(VARIABLES) + r")\}")
UNKNOWN = {
    "en": {"name": "[name unknown]", "arrears": "[arrears unknown]", "next_due": "[next due date unknown]"},
    "zh": {"name": "[姓名未知]", "arrears": "[欠款金额未知]", "next_due": "[下次还款日未知]"},
}


class CannedReplyError(ValueError):
    """A canned reply that cannot be saved as given (the message says which field and why)."""


class DuplicateShortcut(CannedReplyError):
    """Another live reply in the same language has this shortcut."""


@dataclass(frozen=True)
class CannedDraft:
    language: str
    shortcut: str
    title: str
    body: str


def checked(language: object, shortcut: object, title: object, body: object) -> CannedDraft:
    """The draft with surrounding spaces trimmed, or CannedReplyError naming the first bad field."""
    language, shortcut = str(language or "").strip(), str(shortcut or "").strip()
    title, body = str(title or "").strip(), str(body or "").strip()
    if language not in LANGUAGES:
        raise CannedReplyError("language is en or zh")
    if not SHORTCUT.fullmatch(shortcut):
        raise CannedReplyError("shortcut is 1-32 of a-z, 0-9, '_' and '-'")
    if not title or len(title) > MAX_TITLE:
        raise CannedReplyError(f"title is 1-{MAX_TITLE} characters")
    if not body or len(body) > MAX_BODY:
        raise CannedReplyError(f"body is 1-{MAX_BODY} characters")
    return CannedDraft(language, shortcut, title, body)


def fill(body: str, values: dict[str, str | None], language: str) -> str:
    """`body` with {name}, {arrears}, {next_due} replaced; a missing value becomes a visible placeholder."""
    unknown = UNKNOWN.get(language, UNKNOWN["en"])
    return _VARIABLE.sub(lambda m: values.get(m.group(1)) or unknown[m.group(1)], body)


class CannedReplies:
    """The canned replies, read and changed inside one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def live(self, language: str | None = None) -> list[CannedReply]:
        query = select(CannedReply).where(CannedReply.archived_at.is_(None))
        if language:
            query = query.where(CannedReply.language == language)
        return list(self.session.execute(query.order_by(CannedReply.language, CannedReply.shortcut)).scalars())

    def get(self, reply_id: int) -> CannedReply | None:
        reply = self.session.get(CannedReply, reply_id)
        return reply if reply is not None and reply.archived_at is None else None

    def _shortcut_taken(self, draft: CannedDraft, other_than: int | None = None) -> bool:
        taken = self.session.execute(
            select(CannedReply.id).where(CannedReply.language == draft.language,
                                         CannedReply.shortcut == draft.shortcut,
                                         CannedReply.archived_at.is_(None))
        ).scalars().all()
        return any(reply_id != other_than for reply_id in taken)

    def _flush(self, draft: CannedDraft) -> None:
        try:
            self.session.flush()
        except IntegrityError as exc:  # a reply with this shortcut was saved meanwhile (the unit of work rolls back)
            raise DuplicateShortcut(f"/{draft.shortcut} exists already in {draft.language}") from exc

    def create(self, draft: CannedDraft, by: str, now: datetime) -> CannedReply:
        if self._shortcut_taken(draft):
            raise DuplicateShortcut(f"/{draft.shortcut} exists already in {draft.language}")
        reply = CannedReply(language=draft.language, shortcut=draft.shortcut, title=draft.title, body=draft.body,
                            created_by=by, created_at=now, updated_at=now)
        self.session.add(reply)
        self._flush(draft)
        return reply

    def update(self, reply: CannedReply, draft: CannedDraft, now: datetime) -> CannedReply:
        if self._shortcut_taken(draft, other_than=reply.id):
            raise DuplicateShortcut(f"/{draft.shortcut} exists already in {draft.language}")
        reply.language, reply.shortcut, reply.title, reply.body = (draft.language, draft.shortcut, draft.title,
                                                                   draft.body)
        reply.updated_at = now
        self._flush(draft)
        return reply

    def archive(self, reply: CannedReply, now: datetime) -> None:
        reply.archived_at = now
        self.session.flush()
