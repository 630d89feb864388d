"""Verification limits and the lender's time zone, read from the environment.

VERIFICATION_MAX_ATTEMPTS and VERIFICATION_LOCK_MINUTES (the per-conversation,
per-reference rule) stay in bot.config; the limits against spraying and lock-out abuse
are read here, each validated with an error that names the variable.
"""
from __future__ import annotations

import os
from datetime import tzinfo

from babel.dates import get_timezone

from bot.config import ConfigError, Settings
from bot.verification.service import LockoutRule

DEFAULT_TIMEZONE = "Asia/Shanghai"  # the demo lender's; AGENT_HOURS is given in China Standard Time


def _positive(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}: must be a whole number") from exc
    if value < 1:
        raise ConfigError(f"{name}={raw!r}: must be at least 1")
    return value


def lockout_rule(settings: Settings) -> LockoutRule:
    """Every verification limit, from settings and the environment."""
    return LockoutRule(
        max_attempts=settings.verification_max_attempts,
        lock_minutes=settings.verification_lock_minutes,
        conversation_max_failures=_positive("VERIFICATION_CONVERSATION_MAX_FAILURES", 5),
        conversation_window_minutes=_positive("VERIFICATION_CONVERSATION_WINDOW_MINUTES", 30),
        conversation_lock_minutes=_positive("VERIFICATION_CONVERSATION_LOCK_MINUTES", 30),
        reference_max_failures=_positive("VERIFICATION_REFERENCE_MAX_FAILURES", 10),
        reference_window_hours=_positive("VERIFICATION_REFERENCE_WINDOW_HOURS", 24),
    )


def lender_timezone() -> tzinfo:
    """The zone in which times are told to borrowers (LENDER_TIMEZONE, an IANA name)."""
    name = os.environ.get("LENDER_TIMEZONE", "").strip() or DEFAULT_TIMEZONE
    try:
        return get_timezone(name)
    except LookupError as exc:
        raise ConfigError(f"LENDER_TIMEZONE={name!r}: not a time zone name such as Asia/Shanghai") from exc
