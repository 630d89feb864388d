"""Render Rasa's endpoints.yml and credentials.yml from settings into `var/`.

One source of configuration (environment / .env) drives the app database,
Rasa's tracker and lock stores, the action server URL and the channels.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import yaml
from sqlalchemy.engine import make_url

from bot.config import Settings, private_dir


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
    """Redis lock store when REDIS_URL is set (needed with more than one Rasa process): Rasa's, with each
    change of a lock atomic (rasa_runtime/lock_store.py)."""
    if not redis_url:
        return None
    parsed = urlparse(redis_url)
    return {
        "type": "rasa_runtime.lock_store.AtomicRedisLockStore",
        "url": parsed.hostname or "localhost",
        "port": parsed.port or 6379,
        "db": int(parsed.path.lstrip("/") or 0),
        "password": parsed.password,
        "key_prefix": "debtassistant",
    }


def endpoints(settings: Settings) -> dict:
    config = {
        # The action server refuses any call without this header (action_server/__init__.py).
        "action_endpoint": {"url": settings.action_server_url,
                            "headers": {"Authorization": f"Bearer {settings.action_server_token}"}},
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
    """Write var/endpoints.yml and var/credentials.yml, readable by their owner only.

    They hold the action server's token and may hold the Telegram token and database passwords.
    """
    private_dir(settings.var_dir)
    written = []
    for name, content in (("endpoints.yml", endpoints(settings)), ("credentials.yml", credentials(settings))):
        path = settings.var_dir / name
        text = ("# generated from settings by `python -m bot.cli render-config`\n"
                + yaml.safe_dump(content, sort_keys=False, allow_unicode=True))
        # Created 0600 (no moment readable by others); an older, looser file is tightened first.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        written.append(path)
    return written
