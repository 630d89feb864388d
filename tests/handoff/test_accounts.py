"""Console accounts: argon2 hashes only, demo accounts created once."""
from bot.handoff.accounts import authenticate, create_account, ensure_demo_accounts
from bot.handoff.models import AgentAccount


def test_a_password_is_stored_as_an_argon2_hash_and_verified(database):
    with database.unit_of_work() as session:
        account = create_account(session, "kim", "Kim", "agent", "correct horse")
        assert account.password_hash.startswith("$argon2") and "correct horse" not in account.password_hash
    with database.unit_of_work() as session:
        assert authenticate(session, "kim", "correct horse").display_name == "Kim"
        assert authenticate(session, "kim", "wrong") is None
        assert authenticate(session, "nobody", "correct horse") is None


def test_demo_accounts_use_the_configured_password(database, monkeypatch):
    monkeypatch.setenv("DEMO_AGENT_PASSWORD", "demo-pass-1")
    with database.unit_of_work() as session:
        assert ensure_demo_accounts(session) is None  # nothing generated, nothing to print
    with database.unit_of_work() as session:
        assert authenticate(session, "ada", "demo-pass-1").role == "agent"
        assert authenticate(session, "sam", "demo-pass-1").role == "supervisor"


def test_a_generated_demo_password_is_returned_once_and_works(database, monkeypatch):
    monkeypatch.delenv("DEMO_AGENT_PASSWORD", raising=False)
    with database.unit_of_work() as session:
        generated = ensure_demo_accounts(session)
    assert generated
    with database.unit_of_work() as session:
        assert ensure_demo_accounts(session) is None  # idempotent: not created or printed again
        assert session.query(AgentAccount).count() == 2
        assert authenticate(session, "ada", generated) is not None
