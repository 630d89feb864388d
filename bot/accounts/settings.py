"""Where the books are read from: ACCOUNTS_SOURCE and the core-banking connection, from the environment.

Read apart from `bot.config.Settings` (as `bot.verification.settings` is), validated once, with
errors that name the variable. The default, `local`, needs nothing: the books are the tables.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from dotenv import load_dotenv

from bot.config import PROJECT_ROOT, ConfigError

LOCAL = "local"
CORE_BANKING = "core_banking"
SOURCES = (LOCAL, CORE_BANKING)


@dataclass(frozen=True)
class CoreBankingSettings:
    """How to reach the lender's core-banking system (docs/core-banking-api.md) and how to give up on it."""

    base_url: str                       # e.g. https://core.lender.example/api/v1 (no trailing slash)
    token: str = field(repr=False)      # sent as `Authorization: Bearer <token>`; never printed
    connect_timeout: float = 2.0        # seconds to open a connection
    read_timeout: float = 5.0           # seconds for the whole answer to one request
    retries: int = 2                    # further attempts after a refused connection or a 5xx
    backoff: float = 0.2                # seconds before the first retry, doubled for each next one
    breaker_failures: int = 5           # failed requests in a row that open the circuit breaker
    breaker_cooldown: float = 30.0      # seconds the breaker stays open before one trial request

    def describe(self) -> str:
        """One line for operators, without the token."""
        return (f"{self.base_url} (timeouts connect {self.connect_timeout:g} s, read {self.read_timeout:g} s; "
                f"{self.retries} retries; breaker opens after {self.breaker_failures} failures "
                f"for {self.breaker_cooldown:g} s)")


@dataclass(frozen=True)
class AccountsSettings:
    source: str  # local | core_banking
    core_banking: CoreBankingSettings | None = None


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: must be a number of seconds") from None
    if not low <= value <= high:  # also refuses nan and inf
        raise ConfigError(f"{name}={raw!r}: must be from {low:g} to {high:g}")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name}={raw!r}: must be a whole number from {low} to {high}")
    return int(raw)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url(env: Mapping[str, str]) -> str:
    raw = env.get("CORE_BANKING_URL", "").strip()
    if not raw:
        raise ConfigError("CORE_BANKING_URL is not set (needed with ACCOUNTS_SOURCE=core_banking)")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"CORE_BANKING_URL={raw!r}: must be an http(s) URL such as https://core.example/api")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError("CORE_BANKING_URL: no credentials, query or fragment in the URL "
                          "(the token goes in CORE_BANKING_TOKEN)")
    # The token and dates of birth travel on every request: plain HTTP only to this machine.
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(f"CORE_BANKING_URL={raw!r}: must be https:// (plain http only to localhost)")
    return raw.rstrip("/")


def load_accounts_settings(environ: Mapping[str, str] | None = None) -> AccountsSettings:
    """ACCOUNTS_SOURCE and, for `core_banking`, the connection; a bad value raises ConfigError naming it."""
    if environ is None:
        load_dotenv(PROJECT_ROOT / ".env", override=False)
        environ = os.environ
    source = environ.get("ACCOUNTS_SOURCE", "").strip() or LOCAL
    if source not in SOURCES:
        raise ConfigError(f"ACCOUNTS_SOURCE={source!r}: must be one of {', '.join(SOURCES)}")
    if source == LOCAL:
        return AccountsSettings(LOCAL)
    base_url = _base_url(environ)
    token = environ.get("CORE_BANKING_TOKEN", "").strip()
    if not token:
        raise ConfigError("CORE_BANKING_TOKEN is not set (the bearer token the core-banking system issued)")
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        raise ConfigError("CORE_BANKING_TOKEN: must be printable ASCII without spaces")
    return AccountsSettings(CORE_BANKING, CoreBankingSettings(
        base_url=base_url,
        token=token,
        connect_timeout=_number(environ, "CORE_BANKING_CONNECT_TIMEOUT_SECONDS", 2.0, 0.05, 30),
        read_timeout=_number(environ, "CORE_BANKING_TIMEOUT_SECONDS", 5.0, 0.05, 60),
        retries=_whole(environ, "CORE_BANKING_RETRIES", 2, 0, 5),
        backoff=_number(environ, "CORE_BANKING_BACKOFF_SECONDS", 0.2, 0, 10),
        breaker_failures=_whole(environ, "CORE_BANKING_BREAKER_FAILURES", 5, 1, 1000),
        breaker_cooldown=_number(environ, "CORE_BANKING_BREAKER_COOLDOWN_SECONDS", 30.0, 0.05, 3600),
    ))
