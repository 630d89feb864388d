"""Explicit webhook management: ``python -m channels.telegram.webhook set|delete|info``.

The webhook is never set implicitly (not at import, not at server start-up).

Environment:
  TELEGRAM_TOKEN           the bot token from @BotFather (required)
  TELEGRAM_PUBLIC_URL      public HTTPS base URL of the Rasa server (or PUBLIC_BASE_URL);
                           ``/webhooks/telegram/webhook`` is appended unless present
  TELEGRAM_WEBHOOK_SECRET  1-256 chars of A-Z a-z 0-9 _ - (required for ``set``)
  TELEGRAM_API_BASE_URL    optional, default https://api.telegram.org/bot
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from typing import Mapping, Optional, Sequence

from telegram import Bot
from telegram.error import TelegramError

from channels.telegram.sender import DEFAULT_API_BASE_URL, TelegramSender

WEBHOOK_PATH = "/webhooks/telegram/webhook"
# The only update kinds the channel handles; Telegram then does not send the rest.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(Exception):
    """A missing or malformed setting; the message names the variable."""


def token_from_env(env: Mapping[str, str]) -> str:
    token = env.get("TELEGRAM_TOKEN", "").strip()
    if not token:
        raise ConfigError("TELEGRAM_TOKEN is not set (the token @BotFather gave you).")
    return token


def webhook_url_from_env(env: Mapping[str, str]) -> str:
    base = (env.get("TELEGRAM_PUBLIC_URL") or env.get("PUBLIC_BASE_URL") or "").strip()
    if not base:
        raise ConfigError("Set TELEGRAM_PUBLIC_URL (or PUBLIC_BASE_URL) to the server's public HTTPS URL.")
    if not base.startswith("https://"):
        raise ConfigError(f"TELEGRAM_PUBLIC_URL/PUBLIC_BASE_URL must be https:// (Telegram requires it), got {base!r}.")
    base = base.rstrip("/")
    return base if base.endswith(WEBHOOK_PATH) else base + WEBHOOK_PATH


def secret_from_env(env: Mapping[str, str]) -> str:
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
    if not _SECRET.match(secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -.")
    return secret


async def set_webhook(bot: Bot, url: str, secret: str, drop_pending_updates: bool = False) -> None:
    await bot.set_webhook(
        url=url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=drop_pending_updates,
    )


async def describe_webhook(bot: Bot) -> str:
    info = await bot.get_webhook_info()
    lines = [
        f"url: {info.url or '(none: polling possible)'}",
        f"pending_update_count: {info.pending_update_count}",
        f"allowed_updates: {', '.join(info.allowed_updates or []) or '(all)'}",
        f"max_connections: {info.max_connections}",
    ]
    if info.last_error_message:
        lines.append(f"last_error: {info.last_error_date} {info.last_error_message}")
    return "\n".join(lines)


async def _run(command: str, env: Mapping[str, str], drop_pending_updates: bool) -> str:
    sender = TelegramSender(token_from_env(env), api_base_url=env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL)
    try:
        if command == "set":
            url = webhook_url_from_env(env)
            await set_webhook(sender.bot, url, secret_from_env(env), drop_pending_updates)
            return f"webhook set: {url}"
        if command == "delete":
            await sender.bot.delete_webhook(drop_pending_updates=drop_pending_updates)
            return "webhook deleted (polling mode possible now)"
        return await describe_webhook(sender.bot)
    finally:
        await sender.close()


def main(argv: Optional[Sequence[str]] = None, env: Optional[Mapping[str, str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels.telegram.webhook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["set", "delete", "info"])
    parser.add_argument("--drop-pending-updates", action="store_true",
                        help="discard updates Telegram queued while nobody received them")
    args = parser.parse_args(argv)
    try:
        print(asyncio.run(_run(args.command, os.environ if env is None else env, args.drop_pending_updates)))
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except TelegramError as error:
        print(f"Telegram refused: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
