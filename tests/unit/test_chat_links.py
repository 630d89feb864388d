"""Deep links bind a chat to a borrower once; the bound chat then receives reminders (and only it)."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from bot.outreach.facts import contact_facts
from bot.outreach.links import (
    ALREADY_BOUND, BOUND, EXPIRED, TAKEN, UNKNOWN, NoSuchLoan, bind_chat, issue_link, telegram_url,
)
from bot.outreach.models import ChatLink, Contact
from bot.outreach.planner import plan_contacts
from bot.verification.models import VerifiedSession
from tests.conftest import PROJECT_ROOT
from tests.unit.outreach_factories import POLICY, borrower_with_chat, promise

NOW = datetime(2026, 11, 21, 0, 0)


def _borrower_without_verified_chat(session, reference: str = "HCF-1001") -> None:
    borrower_with_chat(session, reference)
    session.execute(delete(VerifiedSession).where(VerifiedSession.loan_reference == reference))


def test_a_token_is_stored_only_as_its_hash_and_binds_one_chat_once(database):
    with database.unit_of_work() as session:
        _borrower_without_verified_chat(session)
        token = issue_link(session, "HCF-1001", by="cli", now=NOW)
    assert len(token) == 32 and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    with database.unit_of_work() as session:
        [row] = session.execute(select(ChatLink)).scalars().all()
        assert token not in (row.token_hash, row.loan_reference) and len(row.token_hash) == 64
        first = bind_chat(session, token, conversation_id="telegram:77", channel="telegram", now=NOW)
    with database.unit_of_work() as session:
        again = bind_chat(session, token, conversation_id="telegram:77", channel="telegram", now=NOW)
        other = bind_chat(session, token, conversation_id="telegram:88", channel="telegram", now=NOW)
        unknown = bind_chat(session, token + "x", conversation_id="telegram:88", channel="telegram", now=NOW)
        wrong_channel = bind_chat(session, token, conversation_id="socketio:88", channel="socketio", now=NOW)
    assert (first.outcome, first.loan_reference) == (BOUND, "HCF-1001")
    assert (again.outcome, again.loan_reference) == (ALREADY_BOUND, "HCF-1001")
    assert (other.outcome, other.loan_reference) == (TAKEN, None)
    assert unknown.outcome == UNKNOWN and wrong_channel.outcome == UNKNOWN
    with database.unit_of_work() as session:
        [row] = session.execute(select(ChatLink)).scalars().all()
        assert (row.conversation_id, row.used_at) == ("telegram:77", NOW)


def test_an_expired_link_binds_nothing_and_an_unknown_loan_gets_no_link(database):
    with database.unit_of_work() as session:
        _borrower_without_verified_chat(session)
        token = issue_link(session, "HCF-1001", by="cli", now=NOW, lifetime=timedelta(days=1))
        with pytest.raises(NoSuchLoan):
            issue_link(session, "HCF-9999", by="cli", now=NOW)
    with database.unit_of_work() as session:
        late = bind_chat(session, token, conversation_id="telegram:77", channel="telegram", now=NOW + timedelta(days=1))
    assert late.outcome == EXPIRED


def test_a_bound_chat_is_the_borrowers_own_chat_for_reminders(database):
    with database.unit_of_work() as session:
        _borrower_without_verified_chat(session)
        promise(session, "HCF-1001", date(2026, 11, 30))
        assert plan_contacts(session, POLICY, NOW) == 0  # no chat of theirs: nowhere to write
        token = issue_link(session, "HCF-1001", by="cli", now=NOW)
        bind_chat(session, token, conversation_id="telegram:77", channel="telegram", now=NOW)
    with database.unit_of_work() as session:
        assert plan_contacts(session, POLICY, NOW + timedelta(minutes=1)) == 1
        [contact] = session.execute(select(Contact)).scalars().all()
        assert (contact.conversation_id, contact.channel) == ("telegram:77", "telegram")
        own = contact_facts(session, loan_reference="HCF-1001", channel="telegram", conversation_id="telegram:77",
                            now=NOW + timedelta(hours=1))
        stranger = contact_facts(session, loan_reference="HCF-1001", channel="telegram",
                                 conversation_id="telegram:88", now=NOW + timedelta(hours=1))
    assert own.own_verified_chat and not stranger.own_verified_chat


def test_the_latest_of_a_verified_chat_and_a_bound_chat_is_written_to(database):
    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001", verified_at=datetime(2026, 11, 20, 9, 0))  # telegram:HCF-1001
        promise(session, "HCF-1001", date(2026, 11, 30))
        token = issue_link(session, "HCF-1001", by="cli", now=datetime(2026, 11, 19))
        bind_chat(session, token, conversation_id="telegram:77", channel="telegram", now=datetime(2026, 11, 19))
        plan_contacts(session, POLICY, NOW)
        [contact] = session.execute(select(Contact)).scalars().all()
    assert contact.conversation_id == "telegram:HCF-1001"  # verified after the link was opened


def test_telegram_url_has_the_bot_and_the_token():
    assert telegram_url("@debt_helper_bot", "abc_DEF-1") == "https://t.me/debt_helper_bot?start=abc_DEF-1"


def test_the_cli_prints_a_link_once_and_refuses_an_unknown_loan(tmp_path, database):
    url = database.engine.url.render_as_string(hide_password=False)
    with database.unit_of_work() as session:
        _borrower_without_verified_chat(session)
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "APP_VAR_DIR": str(tmp_path / "var"),
           "TELEGRAM_BOT_USERNAME": "debt_helper_bot", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "chat-link", "HCF-1001"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    link = done.stdout.splitlines()[0]
    assert link.startswith("https://t.me/debt_helper_bot?start=")
    token = link.split("start=", 1)[1]
    with database.unit_of_work() as session:
        assert bind_chat(session, token, conversation_id="telegram:5", channel="telegram", now=datetime.now()).outcome \
            == BOUND
    refused = subprocess.run([sys.executable, "-m", "bot.cli", "chat-link", "HCF-9999"], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "no loan HCF-9999" in refused.stdout
