"""Render Rasa's endpoints.yml and credentials.yml from settings into `var/`.

One source of configuration (environment / .env) drives the app database,
Rasa's tracker and lock stores, the action server URL and the channels.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import yaml
from sqlalchemy.engine import make_url

from bot.config import Settings


# Rasa's SQL tracker store with cheaper statements (same table and rows): rasa_runtime/tracker_store.py.
TRACKER_STORE_TYPE = "rasa_runtime.tracker_store.SQLTrackerStore"


def tracker_store(url: str) -> dict:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": parsed.database}
    return {
        "type": TRACKER_STORE_TYPE,
        "dialect": parsed.drivername,
        "url": parsed.host,
        "port": parsed.port or 5432,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
    }


def lock_store(redis_url: str | None) -> dict | None:
    """Redis lock store when REDIS_URL is set (needed with more than one Rasa process)."""
    if not redis_url:
        return None
    parsed = urlparse(redis_url)
    return {
        "type": "redis",
        "url": parsed.hostname or "localhost",
        "port": parsed.port or 6379,
        "db": int(parsed.path.lstrip("/") or 0),
        "password": parsed.password,
        "key_prefix": "debtassistant",
    }


def endpoints(settings: Settings) -> dict:
    config = {
        "action_endpoint": {"url": settings.action_server_url},
        "tracker_store": tracker_store(settings.tracker_store_url),
    }
    lock = lock_store(settings.redis_url)
    if lock:
        config["lock_store"] = lock
    return config


def credentials(settings: Settings) -> dict:
    channels: dict = {
        # Widget ids are validated and namespaced `web:<id>` (see channels/widget/socketio.py).
        "channels.widget.socketio.WidgetSocketIOInput": {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": True,
        },
    }
    if settings.redis_url:
        # Agent messages reach a borrower's socket held by another Rasa process.
        channels["channels.widget.socketio.WidgetSocketIOInput"]["redis_url"] = settings.redis_url
    # Rasa's REST channel lets the caller choose any conversation id: development and tests only.
    if settings.environment == "development":
        channels["channels.rest.NamespacedRestInput"] = None  # senders become `rest:<id>`
    if settings.telegram_token:
        channels["channels.telegram.input.TelegramInput"] = {
            "token": settings.telegram_token,
            "webhook_secret": settings.telegram_webhook_secret,
            "api_base_url": settings.telegram_api_base_url,
        }
    return channels


def render_runtime_config(settings: Settings) -> list[Path]:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in (("endpoints.yml", endpoints(settings)), ("credentials.yml", credentials(settings))):
        path = settings.var_dir / name
        path.write_text("# generated from settings by `python -m bot.cli render-config`\n"
                        + yaml.safe_dump(content, sort_keys=False, allow_unicode=True))
        path.chmod(0o600)  # may hold the Telegram token and database passwords
        written.append(path)
    return written
