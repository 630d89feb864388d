"""Operator commands: `python -m bot.cli <command>`.

  setup            migrate the database and create the demo data when missing
  reset-demo       re-create the demo borrowers as of today
  render-config    write var/endpoints.yml and var/credentials.yml from settings
  show-settings    print where things run (no secrets: passwords in URLs shown as ***)
  export-env       print shell exports of the settings the Procfile needs
  agents ...       create, disable, reset-password, list console accounts (bot/handoff/cli.py)
  import PATH...   load a lender's books from CSV / JSON Lines files (docs/data-format.md; bot/books/cli.py)
  export-demo DIR  write the demo borrowers as import files
  payments PATH... record payments, returns and reversals, then reconcile (bot/lifecycle/cli.py)
  reconcile [REF]  judge promises and plans against the payments (runs on a schedule in the web app)
  backfill-history rebuild the daily days-past-due history from imported books [--days 91] (cure/roll rates)
  forget REF       erase a borrower's personal data, keep required records in minimal form (docs/data-rules.md)
  purge            apply the retention periods [--dry-run]
  audit            offers, agreements, promises, verification attempts, state changes as CSV (--from --to [--out])
  score            risk-score every active loan, store the scores [--retrain] (docs/risk.md; bot/risk/cli.py)
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.config import ConfigError, Settings, load_settings, private_dir
from bot.demo.seed import DEMO_LOANS, seed_demo_data
from bot.negotiation import PolicyError, load_policy
from bot.runtime_config import render_runtime_config
from bot.storage import Database
from bot.storage.schema import migrate


def redacted(url: str) -> str:
    """`url` with its password, if any, shown as `***` (database and Redis URLs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{host}"))


def sqlite_files(settings: Settings) -> list[Path]:
    """The SQLite files of the app database and the tracker store (with their journals), where they exist."""
    found = []
    for url in (settings.database_url, settings.tracker_store_url):
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            main = Path(parsed.database)
            found += [path for path in (main, *(Path(f"{main}{suffix}") for suffix in ("-wal", "-shm", "-journal")))
                      if path.exists()]
    return found


def setup(settings: Settings, *, force_demo: bool = False) -> None:
    from bot.accounts.models import Loan

    private_dir(settings.var_dir)
    policy = load_policy(settings.policy_path)  # an invalid policy stops set-up, naming the key
    print(f"policy {settings.policy_path.name} version {policy.version}: valid")
    migrate(settings.database_url)
    db = Database(settings.database_url)
    try:
        with db.unit_of_work() as session:
            present = session.execute(select(Loan.reference).where(
                Loan.reference.in_([d.reference for d in DEMO_LOANS]))).scalars().all()
            if force_demo or len(present) < len(DEMO_LOANS):
                refs = seed_demo_data(session, date.today())
                print(f"demo data created: {', '.join(refs)}")
            else:
                print("demo data present (make demo-data re-creates it as of today)")
        if not all(settings.loan_reference_format.is_canonical(d.reference) for d in DEMO_LOANS):
            print(f"note: the demo references ({DEMO_LOANS[0].reference}, ...) are not in LOAN_REFERENCE_FORMAT "
                  f"{settings.loan_reference_format.template}: the assistant will not recognise them")
        with db.unit_of_work() as session:
            from bot.demo.agents import ensure_demo_agents

            created = ensure_demo_agents(session, settings.environment)
        for username, password in created.items():
            print(f"demo console account {username} created; password, shown once: {password}")
    finally:
        db.dispose()
    for path in sqlite_files(settings):  # files made before umask 077 (older installs) become private too
        path.chmod(0o600)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return run_command(argv)
    except ConfigError as error:  # a bad setting: its name and what is wrong, not a traceback
        print(f"ERROR: {error}", file=sys.stderr)
        return 2


def run_command(argv: list[str]) -> int:
    if argv[:1] == ["agents"]:
        from bot.handoff.cli import main as agents_main

        return agents_main(argv[1:])
    if argv[:1] == ["import"]:
        from bot.books.cli import import_main

        os.umask(0o077)
        return import_main(argv[1:], load_settings().database_url)
    if argv[:1] in (["payments"], ["reconcile"], ["backfill-history"]):
        from bot.lifecycle.cli import backfill_main, payments_main, reconcile_main

        os.umask(0o077)
        settings = load_settings()
        command = {"payments": payments_main, "reconcile": reconcile_main, "backfill-history": backfill_main}[argv[0]]
        return command(argv[1:], settings.database_url, settings.policy_path)
    if argv[:1] == ["chat-link"]:
        from bot.outreach.cli import chat_link_main

        return chat_link_main(argv[1:], load_settings())
    if argv[:1] == ["score"]:
        from bot.risk.cli import score_main

        os.umask(0o077)
        return score_main(argv[1:], load_settings())
    if argv[:1] == ["export-demo"]:
        from bot.books.cli import export_demo_main

        return export_demo_main(argv[1:])
    if argv[:1] in (["forget"], ["purge"], ["audit"]):
        from bot.privacy.cli import main as privacy_main

        os.umask(0o077)  # audit files hold personal data: readable by this user only
        return privacy_main(argv)
    parser = argparse.ArgumentParser(prog="python -m bot.cli")
    parser.add_argument("command", choices=["setup", "reset-demo", "render-config", "show-settings", "export-env"])
    args = parser.parse_args(argv)
    os.umask(0o077)  # the databases, journals and files set-up creates are readable by this user only
    settings = load_settings()
    if args.command in ("setup", "reset-demo"):
        try:
            setup(settings, force_demo=args.command == "reset-demo")
        except PolicyError as error:
            print(f"ERROR: {error}", file=sys.stderr)
            return 2
    elif args.command == "render-config":
        for path in render_runtime_config(settings):
            print(f"wrote {path}")
    elif args.command == "export-env":
        exports = {
            # No secret here: each process reads its own from the settings (no token on a command line).
            "RASA_PORT": settings.rasa_port, "ACTION_PORT": settings.action_port, "WEB_PORT": settings.web_port,
            # One thread per TensorFlow pool: ~20% more NLU throughput here, same latency.
            "TF_INTRA_OP_PARALLELISM_THREADS": 1, "TF_INTER_OP_PARALLELISM_THREADS": 1,
            "TF_CPP_MIN_LOG_LEVEL": 3, "SQLALCHEMY_SILENCE_UBER_WARNING": 1,
        }
        for key, value in exports.items():
            print(f"export {key}={shlex.quote(str(value))}")
    elif args.command == "show-settings":
        from bot.accounts.settings import load_accounts_settings
        from bot.config import ConfigError

        try:
            accounts = load_accounts_settings()
        except ConfigError as error:
            print(f"ERROR: {error}", file=sys.stderr)
            return 2
        print(f"database          {redacted(settings.database_url)}")
        print(f"tracker store     {redacted(settings.tracker_store_url)}")
        print(f"lock store        {'redis ' + redacted(settings.redis_url) if settings.redis_url else 'in-memory'}")
        print(f"Rasa              {settings.rasa_url}  (REST: /webhooks/rest/webhook, HTTP API token-protected)")
        print(f"action server     {settings.action_server_url}  (token-protected; listens on {settings.action_host})")
        print(f"web app           http://localhost:{settings.web_port}/  (demo page + widget; console at /console)")
        print(f"lender            {settings.lender_name}")
        print(f"loan references   {settings.loan_reference_format.template} "
              f"(shown to borrowers as {settings.loan_reference_format.example})")
        print("accounts          " + (f"core-banking system at {accounts.core_banking.describe()}"
                                      if accounts.core_banking else "local tables (ACCOUNTS_SOURCE=local)"))
        print("Telegram          " + ("webhook at /webhooks/telegram/webhook (TELEGRAM_TOKEN set)"
                                      if settings.telegram_token else "off (set TELEGRAM_TOKEN to enable)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
