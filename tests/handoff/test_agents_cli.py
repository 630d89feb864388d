"""`python -m bot.cli agents ...` as an operator runs it: a real process on a real database."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bot.handoff.accounts import account_named, authenticate
from bot.storage import Database
from bot.storage.schema import migrate
from tests.conftest import PROJECT_ROOT


@pytest.fixture
def var_dir(tmp_path):
    migrate(f"sqlite:///{tmp_path / 'app.db'}")
    return tmp_path


def agents(var_dir, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", "agents", *args], cwd=PROJECT_ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "APP_VAR_DIR": str(var_dir)})


def signs_in(var_dir, username: str, password: str) -> bool:
    db = Database(f"sqlite:///{var_dir / 'app.db'}")
    try:
        with db.unit_of_work() as session:
            return authenticate(session, username, password) is not None
    finally:
        db.dispose()


def shown_password(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return re.search(r"password, shown once: (\S+)", result.stdout).group(1)


def test_create_prints_a_generated_password_once_that_signs_in(var_dir):
    password = shown_password(agents(var_dir, "create", "kim", "--role", "supervisor", "--display-name", "Kim Li"))
    assert len(password) >= 16 and signs_in(var_dir, "kim", password)
    db = Database(f"sqlite:///{var_dir / 'app.db'}")
    with db.unit_of_work() as session:
        account = account_named(session, "kim")
        assert (account.role, account.display_name) == ("supervisor", "Kim Li")
    db.dispose()
    assert "kim\tsupervisor\tactive\tKim Li" in agents(var_dir, "list").stdout


def test_a_password_can_come_from_stdin_and_is_not_echoed(var_dir):
    result = agents(var_dir, "create", "kim", "--role", "agent", "--password-stdin", stdin="a-long-passphrase-1\n")
    assert result.returncode == 0 and "a-long-passphrase-1" not in result.stdout
    assert signs_in(var_dir, "kim", "a-long-passphrase-1")
    short = agents(var_dir, "reset-password", "kim", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 12" in short.stderr
    assert signs_in(var_dir, "kim", "a-long-passphrase-1")


def test_disable_refuses_sign_in_and_reset_password_enables_with_a_new_password(var_dir):
    old = shown_password(agents(var_dir, "create", "kim", "--role", "agent"))
    assert agents(var_dir, "disable", "kim").returncode == 0
    assert not signs_in(var_dir, "kim", old)
    assert "kim\tagent\tdisabled" in agents(var_dir, "list").stdout
    new = shown_password(agents(var_dir, "reset-password", "kim"))
    assert new != old and signs_in(var_dir, "kim", new) and not signs_in(var_dir, "kim", old)


def test_mistakes_are_refused_with_a_message(var_dir):
    agents(var_dir, "create", "kim", "--role", "agent")
    duplicate = agents(var_dir, "create", "kim", "--role", "agent")
    assert duplicate.returncode == 2 and "exists" in duplicate.stderr
    assert agents(var_dir, "create", "lee", "--role", "admin").returncode == 2  # argparse: not a role
    unknown = agents(var_dir, "disable", "nobody")
    assert unknown.returncode == 2 and "no account" in unknown.stderr
