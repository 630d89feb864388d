"""Console accounts: argon2 password hashes, sign-in checks, and the demo agent and supervisor."""
from __future__ import annotations

import os
import secrets
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.handoff.models import AGENT, ROLES, SUPERVISOR, AgentAccount

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

DEMO_ACCOUNTS = (("ada", "Ada", AGENT), ("sam", "Sam", SUPERVISOR))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def create_account(session: Session, username: str, display_name: str, role: str, password: str) -> AgentAccount:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    account = AgentAccount(username=username, display_name=display_name, role=role,
                           password_hash=hash_password(password),
                           created_at=datetime.now(timezone.utc).replace(tzinfo=None))
    session.add(account)
    session.flush()
    return account


def account_named(session: Session, username: str) -> AgentAccount | None:
    return session.execute(select(AgentAccount).where(AgentAccount.username == username)).scalar_one_or_none()


def authenticate(session: Session, username: str, password: str) -> AgentAccount | None:
    """The account when the password is right, otherwise None (same cost either way)."""
    account = account_named(session, username.strip().lower())
    if account is None:
        password_matches(_DUMMY_HASH, password)
        return None
    if not password_matches(account.password_hash, password):
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return account


def ensure_demo_accounts(session: Session, password: str | None = None) -> str | None:
    """Create the demo accounts `ada` (agent) and `sam` (supervisor) when missing.

    The password is DEMO_AGENT_PASSWORD, or a generated one. Returns the
    password only when accounts were created from a generated one, so the caller
    can print it once; it is never stored in plain text.
    """
    missing = [spec for spec in DEMO_ACCOUNTS if account_named(session, spec[0]) is None]
    if not missing:
        return None
    password = password or os.environ.get("DEMO_AGENT_PASSWORD") or None
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(12)
    for username, display_name, role in missing:
        create_account(session, username, display_name, role, password)
    return password if generated else None


def end_sessions(session: Session, username: str) -> None:
    """Sign the account out everywhere: every console session issued so far stops working."""
    session.execute(update(AgentAccount).where(AgentAccount.username == username)
                    .values(session_generation=AgentAccount.session_generation + 1))
