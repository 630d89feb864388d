"""`python -m bot.cli chat-link LOAN [--by NAME] [--days N]`: a one-use Telegram deep link for a borrower."""
from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone

from bot.config import Settings
from bot.outreach.links import LINK_LIFETIME, NoSuchLoan, issue_link, telegram_url
from bot.storage import Database


def chat_link_main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.cli chat-link",
        description="Print a one-use link that binds the borrower's Telegram chat to LOAN for reminders. "
                    "Send it to the borrower yourself (letter, SMS, e-mail); it is shown once and only its "
                    "hash is stored. Opening it discloses nothing: the borrower still verifies in the chat.")
    parser.add_argument("loan", help="the loan reference, e.g. HCF-100001")
    parser.add_argument("--by", default="cli", help="who issued it, for the record (default: cli)")
    parser.add_argument("--days", type=int, default=LINK_LIFETIME.days, help="days until it expires (default 30)")
    args = parser.parse_args(argv)
    if not 1 <= args.days <= 365:
        parser.error("--days is between 1 and 365")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        with Database(settings.database_url).unit_of_work() as session:
            token = issue_link(session, args.loan.strip(), by=args.by[:64], now=now,
                               lifetime=timedelta(days=args.days))
    except NoSuchLoan as error:
        print(f"ERROR: {error}")
        return 1
    expires = (now + timedelta(days=args.days)).strftime("%Y-%m-%d %H:%M UTC")
    if settings.telegram_bot_username:
        print(telegram_url(settings.telegram_bot_username, token))
    else:
        print(f"/start {token}")
        print("(set TELEGRAM_BOT_USERNAME to print it as a https://t.me/<bot>?start=... link)")
    print(f"expires {expires}; works once")
    return 0
