"""Console accounts: argon2 password hashes, sign-in checks, and what an operator does to an account.

A disabled account keeps its row (escalations and notes name it) but its hash is
prefixed with `DISABLED_MARK`, which argon2 can never verify; resetting the
password enables it again. Every change that should lock someone out also moves
the account's session generation on, which ends its console sessions at once.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.handoff.models import ROLES, AgentAccount

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
DISABLED_MARK = "!"
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class AccountError(ValueError):
    """An account operation that cannot be done as asked (unknown name, duplicate, bad role)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether the password verifies against the hash (blocking: call it off the event loop)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A password to hand to a person once: 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def is_disabled(account: AgentAccount) -> bool:
    return account.password_hash.startswith(DISABLED_MARK)


def create_account(session: Session, username: str, display_name: str, role: str, password: str) -> AgentAccount:
    username = normalise_username(username)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not USERNAME.fullmatch(username):
        raise AccountError("a username is 1-64 of a-z, 0-9, '.', '-', '_' (starting with a letter or digit)")
    if account_named(session, username) is not None:
        raise AccountError(f"an account named {username!r} exists already")
    account = AgentAccount(username=username, display_name=display_name, role=role,
                           password_hash=hash_password(password),
                           created_at=datetime.now(timezone.utc).replace(tzinfo=None))
    session.add(account)
    session.flush()
    return account


def account_named(session: Session, username: str) -> AgentAccount | None:
    return session.execute(select(AgentAccount).where(AgentAccount.username == username)).scalar_one_or_none()


def _existing(session: Session, username: str) -> AgentAccount:
    account = account_named(session, normalise_username(username))
    if account is None:
        raise AccountError(f"no account named {username!r}")
    return account


def authenticate(session: Session, username: str, password: str) -> AgentAccount | None:
    """The account when the password is right and the account enabled, otherwise None (same cost either way)."""
    account = account_named(session, normalise_username(username))
    if account is None or is_disabled(account):
        password_matches(_DUMMY_HASH, password)
        return None
    if not password_matches(account.password_hash, password):
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return account


def disable_account(session: Session, username: str) -> AgentAccount:
    """Refuse the account's sign-ins from now on and end its sessions; idempotent."""
    account = _existing(session, username)
    if not is_disabled(account):
        account.password_hash = DISABLED_MARK + account.password_hash
    session.flush()
    end_sessions(session, account.username)
    return account


def reset_password(session: Session, username: str, password: str) -> AgentAccount:
    """Give the account a new password (enabling it if it was disabled) and end its sessions."""
    account = _existing(session, username)
    account.password_hash = hash_password(password)
    session.flush()
    end_sessions(session, account.username)
    return account


def end_sessions(session: Session, username: str) -> None:
    """Sign the account out everywhere: every console session issued so far stops working."""
    session.execute(update(AgentAccount).where(AgentAccount.username == username)
                    .values(session_generation=AgentAccount.session_generation + 1)
                    .execution_options(synchronize_session="fetch"))
