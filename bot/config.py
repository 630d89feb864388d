"""Runtime settings, read once from the environment (and `.env` when present).

Every knob a deployment may turn lives here with its embedded default, so the
product runs on SQLite with no configuration at all.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

from bot.accounts.reference_format import (
    DEFAULT_TEMPLATE, LoanReferenceFormat, ReferenceFormatError, parse_reference_format,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting has a value the product cannot run with; the message names it."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}: must be an integer") from exc


def _load_env_file() -> None:
    """Variables from `.env` at the root, where the environment does not set them already."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)


def _reference_format() -> LoanReferenceFormat:
    raw = os.environ.get("LOAN_REFERENCE_FORMAT") or DEFAULT_TEMPLATE
    try:
        return parse_reference_format(raw)
    except ReferenceFormatError as exc:
        raise ConfigError(f"LOAN_REFERENCE_FORMAT={raw!r}: {exc}") from exc


@lru_cache(maxsize=1)
def loan_reference_format() -> LoanReferenceFormat:
    """The LOAN_REFERENCE_FORMAT setting, read once per process.

    For the parsers, which read every message and cannot be handed the settings;
    `load_settings()` reads the same variable, so a bad value stops every process at start-up.
    Tests that change the variable call `loan_reference_format.cache_clear()`.
    """
    _load_env_file()
    return _reference_format()


def _positive(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise ConfigError(f"{name}={value}: must be at least 1")
    return value


def private_dir(path: Path) -> Path:
    """`path` as a directory only its owner can enter (created so, or tightened if looser)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def new_secret() -> str:
    """A random secret safe anywhere: hex never starts with "-" (a command-line option) nor needs quoting."""
    return secrets.token_hex(32)


def _persistent_secret(var_dir: Path, name: str) -> str:
    """A random secret generated on first use and kept in `var/` so restarts agree.

    The file is created with mode 0600 (never readable by others, not even between writing and
    a chmod) and appears under its name only once complete: processes starting together read
    the same value.
    """
    path = var_dir / f".{name.lower()}"
    if path.exists():
        return path.read_text().strip()
    private_dir(var_dir)
    draft = var_dir / f".{name.lower()}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(new_secret())
        try:
            os.link(draft, path)  # atomic, and fails if another process got there first
        except FileExistsError:
            pass
    finally:
        draft.unlink()
    return path.read_text().strip()


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    tracker_store_url: str
    redis_url: str | None
    lender_name: str
    lender_contact: str
    agent_hours: str
    crisis_line: str
    # The same three in Chinese: every text shown to borrowers exists in both languages.
    lender_contact_zh: str
    agent_hours_zh: str
    crisis_line_zh: str
    # LOAN_REFERENCE_FORMAT, validated here with the rest; parsers and prompts read the same
    # variable through loan_reference_format() (they cannot be handed the settings).
    loan_reference_format: LoanReferenceFormat
    rasa_port: int
    action_port: int
    web_port: int
    rasa_url: str
    action_server_url: str
    action_host: str
    action_server_token: str
    action_max_request_bytes: int
    rasa_api_token: str
    link_secret: str
    public_base_url: str
    verification_max_attempts: int
    verification_lock_minutes: int
    verification_idle_minutes: int
    session_expiry_minutes: int
    # Data rules (docs/data-rules.md): how long conversation texts and the records a regulator
    # may ask for are kept.
    conversation_text_retention_days: int
    record_retention_years: int
    environment: str
    policy_path: Path
    dispute_channel: str
    telegram_token: str | None
    telegram_webhook_secret: str | None
    telegram_api_base_url: str
    telegram_bot_username: str | None  # for deep links t.me/<username>?start=<token> (bot.outreach.links)
    # The payments feed (POST /api/payments): HMAC secret shared with the lender's payment system.
    payments_feed_secret: str = ""
    # Minutes between scheduled reconciliations in the web process; 0 turns the schedule off there.
    reconcile_interval_minutes: int = 60
    # Hours between retention purges in the web process (bot/privacy/purge.py); 0 turns it off there.
    purge_interval_hours: int = 24

    @property
    def public_origin(self) -> str:
        """The web origin (scheme://host[:port]) of PUBLIC_BASE_URL: the one origin browsers may call Rasa from."""
        parsed = urlsplit(self.public_base_url)
        return f"{parsed.scheme}://{parsed.netloc}"


def load_settings() -> Settings:
    """Settings from the environment, `.env` included; defaults run embedded."""
    _load_env_file()
    var_dir = Path(os.environ.get("APP_VAR_DIR", PROJECT_ROOT / "var")).resolve()
    rasa_port = _int("RASA_PORT", 5005)
    action_port = _int("ACTION_PORT", 5055)
    web_port = _int("WEB_PORT", 8000)
    return Settings(
        var_dir=var_dir,
        database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'app.db'}",
        tracker_store_url=os.environ.get("TRACKER_STORE_URL") or f"sqlite:///{var_dir / 'tracker.db'}",
        redis_url=os.environ.get("REDIS_URL") or None,
        lender_name=os.environ.get("LENDER_NAME", "HCF Consumer Finance"),
        lender_contact=os.environ.get("LENDER_CONTACT", "400-000-0000 (Mon-Fri 09:00-18:00)"),
        agent_hours=os.environ.get("AGENT_HOURS", ""),  # empty: written from policy.yml desk (bot/handoff/hours.py)
        crisis_line=os.environ.get("CRISIS_LINE", "400-161-9995 (24h psychological support hotline)"),
        lender_contact_zh=os.environ.get("LENDER_CONTACT_ZH", "400-000-0000（周一至周五 09:00-18:00）"),
        agent_hours_zh=os.environ.get("AGENT_HOURS_ZH", ""),
        crisis_line_zh=os.environ.get("CRISIS_LINE_ZH", "400-161-9995（24 小时心理援助热线）"),
        loan_reference_format=_reference_format(),
        rasa_port=rasa_port,
        action_port=action_port,
        web_port=web_port,
        rasa_url=os.environ.get("RASA_URL", f"http://localhost:{rasa_port}"),
        # 127.0.0.1, not localhost: the action server binds IPv4 loopback only (ACTION_HOST).
        action_server_url=os.environ.get("ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}/webhook"),
        action_host=os.environ.get("ACTION_HOST") or "127.0.0.1",
        action_server_token=os.environ.get("ACTION_SERVER_TOKEN") or _persistent_secret(var_dir, "ACTION_SERVER_TOKEN"),
        action_max_request_bytes=_int("ACTION_MAX_REQUEST_BYTES", 8 * 1024 * 1024),
        rasa_api_token=os.environ.get("RASA_API_TOKEN") or _persistent_secret(var_dir, "RASA_API_TOKEN"),
        link_secret=os.environ.get("LINK_SECRET") or _persistent_secret(var_dir, "LINK_SECRET"),
        public_base_url=os.environ.get("PUBLIC_BASE_URL", f"http://localhost:{web_port}"),
        verification_max_attempts=_int("VERIFICATION_MAX_ATTEMPTS", 3),
        verification_lock_minutes=_int("VERIFICATION_LOCK_MINUTES", 30),
        verification_idle_minutes=_int("VERIFICATION_IDLE_MINUTES", 30),
        session_expiry_minutes=_int("SESSION_EXPIRY_MINUTES", 60),
        conversation_text_retention_days=_positive("CONVERSATION_TEXT_RETENTION_DAYS", 730),
        record_retention_years=_positive("RECORD_RETENTION_YEARS", 6),
        environment=os.environ.get("APP_ENV", "development"),
        policy_path=Path(os.environ.get("POLICY_FILE", PROJECT_ROOT / "policy.yml")),  # same default as actions/__init__
        telegram_token=os.environ.get("TELEGRAM_TOKEN") or None,
        telegram_webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET") or (
            _persistent_secret(var_dir, "TELEGRAM_WEBHOOK_SECRET") if os.environ.get("TELEGRAM_TOKEN") else None),
        telegram_api_base_url=os.environ.get("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot"),
        telegram_bot_username=os.environ.get("TELEGRAM_BOT_USERNAME") or None,
        dispute_channel=os.environ.get(
            "DISPUTE_CHANNEL", "complaints@hcf.example / 400-000-0000"),
        payments_feed_secret=os.environ.get("PAYMENTS_FEED_SECRET") or _persistent_secret(
            var_dir, "PAYMENTS_FEED_SECRET"),
        reconcile_interval_minutes=_int("RECONCILE_INTERVAL_MINUTES", 60),
        purge_interval_hours=_int("PURGE_INTERVAL_HOURS", 24),
    )
