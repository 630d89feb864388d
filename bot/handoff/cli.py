"""`python -m bot.cli agents ...`: create, list, disable and reset console accounts.

  agents create NAME --role agent|supervisor [--display-name TEXT] [--password-stdin]
  agents disable NAME
  agents reset-password NAME [--password-stdin]
  agents list

A password is generated and printed once, or read from the first line of stdin
with --password-stdin (for scripts and password managers). Disabling or resetting
ends the account's console sessions at once.
"""
from __future__ import annotations

import argparse
import sys
from typing import TextIO

from sqlalchemy import select

from bot.config import load_settings
from bot.handoff.accounts import (
    AccountError, create_account, disable_account, generate_password, is_disabled, reset_password,
)
from bot.handoff.models import ROLES, AgentAccount
from bot.storage import Database

MIN_PASSWORD = 12


def _password(from_stdin: bool, stdin: TextIO) -> tuple[str, bool]:
    """The password to set and whether it was generated (and so must be shown)."""
    if not from_stdin:
        return generate_password(), True
    password = stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password read from stdin must have at least {MIN_PASSWORD} characters")
    return password, False


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bot.cli agents", description="Manage agent console accounts.")
    commands = root.add_subparsers(dest="action", required=True)
    create = commands.add_parser("create", help="create an account")
    create.add_argument("name")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--display-name", help="shown to borrowers with the agent's messages (default: the name)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    disable = commands.add_parser("disable", help="refuse sign-in and end the account's sessions")
    disable.add_argument("name")
    reset = commands.add_parser("reset-password", help="set a new password (enables a disabled account)")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    commands.add_parser("list", help="every account with its role and state")
    return root


def main(argv: list[str], stdin: TextIO = sys.stdin) -> int:
    args = parser().parse_args(argv)
    db = Database(load_settings().database_url)
    try:
        with db.unit_of_work() as session:
            if args.action == "list":
                accounts = session.execute(select(AgentAccount).order_by(AgentAccount.username)).scalars()
                done = "\n".join(f"{a.username}\t{a.role}\t{'disabled' if is_disabled(a) else 'active'}\t"
                                 f"{a.display_name}" for a in accounts) or "no console accounts"
            elif args.action == "disable":
                account = disable_account(session, args.name)
                done = f"{account.username} disabled; its console sessions are ended"
            else:
                password, generated = _password(args.password_stdin, stdin)
                if args.action == "create":
                    account = create_account(session, args.name, args.display_name or args.name, args.role,
                                             password)
                    done = f"{account.username} ({account.role}) created"
                else:
                    account = reset_password(session, args.name, password)
                    done = f"{account.username}: password reset, sessions ended"
                if generated:
                    done += f"; password, shown once: {password}"
        print(done)  # after the commit: nothing is reported that was not saved
        return 0
    except AccountError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
