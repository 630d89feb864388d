"""Development mode without a public URL: ``python -m channels.telegram.polling``.

Long-polls ``getUpdates`` and relays each update, unchanged, to the running
Rasa server's Telegram webhook with the secret header, so every update takes
the very same code path as in production. An update is confirmed to Telegram
(offset moved past it) only after Rasa accepted it; while Rasa is down, the
relay waits and retries.

Telegram refuses ``getUpdates`` while a webhook is set. This tool never
deletes it; run ``python -m channels.telegram.webhook delete`` first.

Environment: TELEGRAM_TOKEN (required), TELEGRAM_WEBHOOK_SECRET (the one the
Rasa channel checks), RASA_URL (default http://localhost:5005),
TELEGRAM_API_BASE_URL (optional).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Mapping, Optional, Sequence

import httpx
from telegram import Bot
from telegram.error import Conflict, InvalidToken, NetworkError

from channels.telegram.sender import DEFAULT_API_BASE_URL, TelegramSender
from channels.telegram.webhook import ALLOWED_UPDATES, WEBHOOK_PATH, ConfigError, token_from_env

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class RasaRefused(Exception):
    """Rasa answered 403: the secret does not match the channel's ``webhook_secret``."""


class RasaUnavailable(Exception):
    """Rasa is down or failed (5xx): retry the same update later."""


async def relay_update(client: httpx.AsyncClient, webhook_url: str, secret: str, payload: dict) -> None:
    headers = {SECRET_HEADER: secret} if secret else {}
    try:
        reply = await client.post(webhook_url, json=payload, headers=headers)
    except httpx.HTTPError as error:
        raise RasaUnavailable(f"{webhook_url}: {error!r}") from error
    if reply.status_code == 403:
        raise RasaRefused("Rasa refused the update (403): TELEGRAM_WEBHOOK_SECRET differs from the channel's webhook_secret.")
    if reply.status_code >= 500:
        raise RasaUnavailable(f"{webhook_url} answered {reply.status_code}")
    if reply.status_code >= 300:
        logger.error("telegram.polling.update_rejected update_id=%s status=%s", payload.get("update_id"), reply.status_code)


async def relay_pending(
    bot: Bot, client: httpx.AsyncClient, webhook_url: str, secret: str,
    offset: Optional[int], poll_timeout: int,
) -> Optional[int]:
    """Fetch the next updates and relay them in order; returns the new offset."""
    updates = await bot.get_updates(offset=offset, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
    for update in updates:
        await relay_update(client, webhook_url, secret, update.to_dict())
        offset = update.update_id + 1
    return offset


async def run(token: str, secret: str, rasa_url: str, api_base_url: str = DEFAULT_API_BASE_URL,
              poll_timeout: int = 25) -> int:
    webhook_url = rasa_url.rstrip("/") + WEBHOOK_PATH
    sender = TelegramSender(token, api_base_url=api_base_url)
    offset: Optional[int] = None
    pause = 1.0
    logger.info("telegram.polling.started relay_to=%s", webhook_url)
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as client:
            while True:
                try:
                    offset = await relay_pending(sender.bot, client, webhook_url, secret, offset, poll_timeout)
                    pause = 1.0
                except Conflict as error:
                    logger.error("telegram.polling.conflict %s -- if a webhook is set, run "
                                 "`python -m channels.telegram.webhook delete` first", error)
                    return 2
                except (InvalidToken, RasaRefused) as error:
                    logger.error("telegram.polling.stopped %s", error)
                    return 2
                except (NetworkError, RasaUnavailable) as error:
                    logger.warning("telegram.polling.retrying_in=%ss %s", pause, error)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 30.0)
    finally:
        await sender.close()


def main(argv: Optional[Sequence[str]] = None, env: Optional[Mapping[str, str]] = None) -> int:
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(prog="python -m channels.telegram.polling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rasa-url", default=env.get("RASA_URL", "http://localhost:5005"))
    parser.add_argument("--timeout", type=int, default=25, help="long-poll seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        token = token_from_env(env)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(token, env.get("TELEGRAM_WEBHOOK_SECRET", ""), args.rasa_url,
                               env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL, args.timeout))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
