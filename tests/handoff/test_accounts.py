"""Console accounts: argon2 hashes only; disable and reset end sessions; demo accounts only for demos."""
import pytest

from bot.demo.agents import ensure_demo_agents
from bot.handoff.accounts import (
    AccountError, account_named, authenticate, create_account, disable_account, reset_password,
)


def test_a_password_is_stored_as_an_argon2_hash_and_verified(database):
    with database.unit_of_work() as session:
        account = create_account(session, "kim", "Kim", "agent", "correct horse")
        assert account.password_hash.startswith("$argon2") and "correct horse" not in account.password_hash
    with database.unit_of_work() as session:
        assert authenticate(session, "kim", "correct horse").display_name == "Kim"
        assert authenticate(session, "kim", "wrong") is None
        assert authenticate(session, "nobody", "correct horse") is None


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(database):
    with database.unit_of_work() as session:
        generation = create_account(session, "kim", "Kim", "agent", "correct horse").session_generation
    with database.unit_of_work() as session:
        disable_account(session, "kim")
    with database.unit_of_work() as session:
        assert authenticate(session, "kim", "correct horse") is None
        assert account_named(session, "kim").session_generation > generation


def test_a_reset_password_replaces_the_old_one_and_enables_the_account(database):
    with database.unit_of_work() as session:
        create_account(session, "kim", "Kim", "agent", "correct horse")
        disable_account(session, "kim")
    with database.unit_of_work() as session:
        reset_password(session, "kim", "battery staple")
    with database.unit_of_work() as session:
        assert authenticate(session, "kim", "correct horse") is None
        assert authenticate(session, "kim", "battery staple").username == "kim"


def test_roles_names_and_duplicates_are_checked(database):
    with database.unit_of_work() as session:
        create_account(session, "kim", "Kim", "agent", "pw")
        with pytest.raises(AccountError, match="role"):
            create_account(session, "lee", "Lee", "admin", "pw")
        with pytest.raises(AccountError, match="exists"):
            create_account(session, "KIM", "Kim", "agent", "pw")
        with pytest.raises(AccountError, match="username"):
            create_account(session, "kim lee", "Kim", "agent", "pw")
        with pytest.raises(AccountError, match="no account"):
            disable_account(session, "nobody")


def test_each_demo_account_gets_its_own_password_shown_once(database):
    with database.unit_of_work() as session:
        created = ensure_demo_agents(session, "development")
    assert set(created) == {"ada", "sam"} and created["ada"] != created["sam"]
    with database.unit_of_work() as session:
        assert authenticate(session, "ada", created["ada"]).role == "agent"
        assert authenticate(session, "sam", created["sam"]).role == "supervisor"
        assert authenticate(session, "sam", created["ada"]) is None
        assert ensure_demo_agents(session, "development") == {}  # idempotent: nothing created or printed again


def test_no_demo_account_in_production(database):
    with database.unit_of_work() as session:
        assert ensure_demo_agents(session, "production") == {}
        assert account_named(session, "ada") is None and account_named(session, "sam") is None
