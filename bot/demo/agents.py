"""The demo console accounts, created by the demo set-up alongside the demo borrowers.

`ada` is an agent and `sam` a supervisor. Each gets its own generated password,
returned once so set-up can print it; only the argon2 hash is stored. They are
never created when the environment is `production`: real accounts come from
`python -m bot.cli agents create`.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from bot.handoff.accounts import account_named, create_account, generate_password
from bot.handoff.models import AGENT, SUPERVISOR

DEMO_AGENTS = (("ada", "Ada", AGENT), ("sam", "Sam", SUPERVISOR))


def ensure_demo_agents(session: Session, environment: str) -> dict[str, str]:
    """Create the missing demo accounts; returns {username: password} of those created now."""
    if environment == "production":
        return {}
    created: dict[str, str] = {}
    for username, display_name, role in DEMO_AGENTS:
        if account_named(session, username) is None:
            created[username] = generate_password()
            create_account(session, username, display_name, role, created[username])
    return created
