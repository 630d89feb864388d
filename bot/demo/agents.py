"""The demo console accounts, created by the demo set-up alongside the demo borrowers.

`ada` is an agent and `sam` a supervisor. Each gets its own generated password,
returned once so set-up can print it; only the argon2 hash is stored. They are
never created when the environment is `production`: real accounts come from
`python -m bot.cli agents create`. A few canned replies in English and Chinese
come with them, so the reply box's "/" menu has something to show.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from bot.handoff.accounts import account_named, create_account, generate_password
from bot.handoff.canned import CannedReplies, checked
from bot.handoff.models import AGENT, SUPERVISOR

DEMO_AGENTS = (("ada", "Ada", AGENT), ("sam", "Sam", SUPERVISOR))
# (language, shortcut, title, body)
DEMO_CANNED = (
    ("en", "hello", "Greeting", "Hello {name}, I'm taking over from the assistant. How can I help?"),
    ("en", "arrears", "Arrears", "Your account is {arrears} behind; your next payment is due on {next_due}."),
    ("en", "plan", "Offer a plan", "We can spread the {arrears} over a few months. What could you pay each month?"),
    ("en", "bye", "Closing", "Thank you, {name}. The assistant will carry on from here; write any time."),
    ("zh", "hello", "问候", "{name}您好，我是人工客服，接下来由我为您服务。请问有什么可以帮您？"),
    ("zh", "arrears", "欠款", "您的账户目前逾期 {arrears}，下次还款日为 {next_due}。"),
    ("zh", "plan", "分期方案", "我们可以把 {arrears} 分几个月还清。您每个月大概能还多少？"),
    ("zh", "bye", "结束", "谢谢您，{name}。接下来由智能助手继续为您服务，有问题随时留言。"),
)


def ensure_demo_canned_replies(session: Session) -> int:
    """Create the demo canned replies whose shortcut is free in their language; returns how many."""
    replies, now = CannedReplies(session), datetime.now(timezone.utc).replace(tzinfo=None)
    taken = {(r.language, r.shortcut) for r in replies.live()}
    created = 0
    for language, shortcut, title, body in DEMO_CANNED:
        if (language, shortcut) not in taken:
            replies.create(checked(language, shortcut, title, body), "sam", now)
            created += 1
    return created


def ensure_demo_agents(session: Session, environment: str) -> dict[str, str]:
    """Create the missing demo accounts; returns {username: password} of those created now."""
    if environment == "production":
        return {}
    created: dict[str, str] = {}
    for username, display_name, role in DEMO_AGENTS:
        if account_named(session, username) is None:
            created[username] = generate_password()
            create_account(session, username, display_name, role, created[username])
    ensure_demo_canned_replies(session)
    return created
