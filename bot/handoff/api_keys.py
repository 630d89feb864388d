"""Scoped API keys for a lender's integrations (a CRM reading escalations, adding notes).

A key reads `dk_<prefix>_<secret>`: the prefix (12 hex characters) finds the row, the secret is
32 random bytes (URL-safe base64). Only a hash is stored, shown never; the key itself is shown
once, when created.

Why HMAC-SHA-256 and not argon2 (which the console's passwords use): argon2 is slow on purpose
so that a stolen hash of a *guessable* password costs a lot to crack. A 256-bit random secret
cannot be guessed, so a slow hash buys nothing and would cost ~50 ms and 64 MiB on every
integration request. The hash is keyed with the deployment's secret (`LINK_SECRET`), so a copy
of the database alone does not even let someone check a candidate key. Changing that secret
invalidates every key (they have to be issued again). Comparison is constant-time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.handoff.models import ConsoleApiKey

READ = "escalations:read"
WRITE = "escalations:write"
SCOPES = (READ, WRITE)
KEY_MARK = "dk"
MAX_NAME = 100


class ApiKeyError(ValueError):
    """A key that cannot be created as asked (the message names the field)."""


@dataclass(frozen=True)
class KeyHolder:
    """Who is calling with a valid key."""

    key_id: int
    name: str
    scopes: frozenset[str]


def _hash(secret_key: str, key: str) -> str:
    return hmac.new(("console-api-key:" + secret_key).encode(), key.encode(), hashlib.sha256).hexdigest()


def create_key(session: Session, *, name: object, scopes: object, by: str, now: datetime,
               secret_key: str) -> tuple[ConsoleApiKey, str]:
    """A new key row and the key itself (to show once)."""
    name = str(name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise ApiKeyError(f"name is 1-{MAX_NAME} characters")
    if not isinstance(scopes, list) or not scopes or any(s not in SCOPES for s in scopes):
        raise ApiKeyError(f"scopes is a non-empty list of {', '.join(SCOPES)}")
    prefix = secrets.token_hex(6)
    key = f"{KEY_MARK}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ConsoleApiKey(name=name, prefix=prefix, key_hash=_hash(secret_key, key),
                        scopes=" ".join(sorted(set(scopes))), created_by=by, created_at=now)
    session.add(row)
    session.flush()
    return row, key


def holder_of(session: Session, key: str, now: datetime, *, secret_key: str) -> KeyHolder | None:
    """Who the key belongs to when it is valid and not revoked (and note its use), else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_MARK or len(parts[1]) != 12:
        return None
    row = session.execute(select(ConsoleApiKey).where(ConsoleApiKey.prefix == parts[1])).scalar_one_or_none()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _hash(secret_key, key)):
        return None
    row.last_used_at = now
    return KeyHolder(key_id=row.id, name=row.name, scopes=frozenset(row.scopes.split()))


def all_keys(session: Session) -> list[ConsoleApiKey]:
    return list(session.execute(select(ConsoleApiKey).order_by(ConsoleApiKey.id)).scalars())


def revoke_key(session: Session, key_id: int, now: datetime) -> bool:
    """Revoke a live key; False when there is no such key or it was revoked already."""
    result = session.execute(update(ConsoleApiKey)
                             .where(ConsoleApiKey.id == key_id, ConsoleApiKey.revoked_at.is_(None))
                             .values(revoked_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1
