"""Console sign-in sessions: a signed, expiring cookie carrying the username and a CSRF token.

The cookie also carries the account's session generation at sign-in; signing out moves the
generation on in the database, so that cookie (and any copy of it) stops working at once.

The cookie is HttpOnly and SameSite=Lax; every state-changing request must also
send the session's CSRF token (header `X-CSRF-Token` or form field `csrf_token`).
The account (and so the role) is re-read from the database on every request.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "console_session"
LOGIN_COOKIE = "console_login"
SESSION_SECONDS = 8 * 3600  # one working shift
LOGIN_FORM_SECONDS = 1800


@dataclass(frozen=True)
class ConsoleSession:
    username: str
    csrf: str
    generation: int


class SessionSigner:
    """Issues and reads the session and sign-in-form cookies."""

    def __init__(self, secret: str, max_age: int = SESSION_SECONDS) -> None:
        self._sessions = URLSafeTimedSerializer(secret, salt="console-session")
        self._login = URLSafeTimedSerializer(secret, salt="console-login-form")
        self.max_age = max_age

    def issue(self, username: str, generation: int) -> tuple[str, ConsoleSession]:
        session = ConsoleSession(username=username, csrf=secrets.token_urlsafe(24), generation=generation)
        return self._sessions.dumps({"u": session.username, "c": session.csrf, "g": generation}), session

    def read(self, cookie: str | None) -> ConsoleSession | None:
        if not cookie:
            return None
        try:
            data = self._sessions.loads(cookie, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data.get("g"), int):
            return None  # a cookie from before generations existed
        return ConsoleSession(username=data["u"], csrf=data["c"], generation=data["g"])

    def login_token(self) -> tuple[str, str]:
        """A token for the sign-in form and the cookie that vouches for it (double submit)."""
        token = secrets.token_urlsafe(24)
        return token, self._login.dumps(token)

    def login_token_ok(self, cookie: str | None, submitted: str | None) -> bool:
        if not cookie or not submitted:
            return False
        try:
            expected = self._login.loads(cookie, max_age=LOGIN_FORM_SECONDS)
        except BadSignature:
            return False
        return hmac.compare_digest(str(expected), submitted)


def csrf_ok(expected: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(expected, submitted)
