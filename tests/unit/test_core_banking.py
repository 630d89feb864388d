"""The core-banking adapter against a fake core-banking server started here (tests/fake_core_banking.py):
the same books give the same statement as the local tables; verification reads through it; a slow,
failing, absent or nonsensical system gives `AccountsUnavailable` in bounded time, never a wrong amount."""
from __future__ import annotations

import copy
import logging
import threading
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.accounts.core_banking import BreakerOpen, CircuitBreaker, CoreBankingAccounts, CoreBankingClient
from bot.accounts.models import Charge, ChargeKind, Loan, Payment, PaymentStatus, ScheduledInstalment
from bot.accounts.repository import AccountRepository
from bot.accounts.settings import CoreBankingSettings, load_accounts_settings
from bot.accounts.source import AccountSource, AccountsUnavailable
from bot.config import ConfigError
from bot.demo.seed import seed_demo_data
from bot.storage import Database
from bot.storage.schema import migrate
from bot.verification.models import VerificationAttempt
from bot.verification.service import LockoutRule, Outcome, verify_identity
from tests.conftest import TODAY
from tests.fake_core_banking import TOKEN, FakeCoreBanking, documents
from tests.unit.test_cli import run_cli

REFERENCES = ("HCF-1001", "HCF-2002", "HCF-3003", "HCF-4004")
NOW = datetime(2026, 11, 28, 10, 0, 0)


def more_history(db) -> None:
    """Beyond the demo: a partial payment naming no instalment, two payments on one day, a failed one,
    a waived penalty and a live one, so that allocation has real work to do."""
    with db.unit_of_work() as session:
        loan = session.execute(select(Loan).where(Loan.reference == "HCF-1001")).scalar_one()
        missed = session.execute(select(ScheduledInstalment).where(
            ScheduledInstalment.loan_id == loan.id, ScheduledInstalment.number == 8)).scalar_one()
        day = TODAY - timedelta(days=20)
        session.add_all([
            Payment(loan_id=loan.id, amount=Decimal("300.00"), paid_on=day, status=PaymentStatus.SUCCEEDED,
                    external_id="PAY-X1"),
            Payment(loan_id=loan.id, instalment_id=missed.id, amount=Decimal("125.50"), paid_on=day,
                    status=PaymentStatus.SUCCEEDED, external_id="PAY-X2", note="by phone"),
            Payment(loan_id=loan.id, amount=Decimal("999.00"), paid_on=day, status=PaymentStatus.FAILED,
                    external_id="PAY-X3"),
            Charge(loan_id=loan.id, kind=ChargeKind.PENALTY_INTEREST, amount=Decimal("42.17"),
                   charged_on=TODAY - timedelta(days=10), waived=True, external_id="CHG-X1"),
            Charge(loan_id=loan.id, kind=ChargeKind.PENALTY_INTEREST, amount=Decimal("13.09"),
                   charged_on=TODAY - timedelta(days=5), external_id="CHG-X2"),
        ])


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """The demo books and more, seeded once for the module: tests only read them."""
    url = f"sqlite:///{tmp_path_factory.mktemp('books') / 'app.db'}"
    migrate(url)
    db = Database(url)
    with db.unit_of_work() as session:
        seed_demo_data(session, TODAY)
    more_history(db)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def served(books) -> dict:
    """The documents the core-banking system serves for the same books."""
    with books.unit_of_work() as session:
        repository = AccountRepository(session)
        return {reference: documents(loan_books, repository.borrower_of(loan_books.loan))
                for reference in REFERENCES for loan_books in [repository.books(reference)]}


@pytest.fixture
def fake(served):
    server = FakeCoreBanking()
    server.loans = copy.deepcopy(served)  # a test may damage its own copy
    server.start()
    yield server
    server.stop()


def settings_for(fake: FakeCoreBanking, **overrides) -> CoreBankingSettings:
    values = dict(base_url=fake.url, token=TOKEN, connect_timeout=0.5, read_timeout=0.5, retries=2,
                  backoff=0.01, breaker_failures=3, breaker_cooldown=0.3)
    return CoreBankingSettings(**{**values, **overrides})


@pytest.fixture
def clients():
    made: list[CoreBankingClient] = []

    def make(fake: FakeCoreBanking, **overrides) -> CoreBankingClient:
        made.append(CoreBankingClient(settings_for(fake, **overrides)))
        return made[-1]
    yield make
    for client in made:
        client.close()


def local_statement(db, reference, today=TODAY):
    with db.unit_of_work() as session:
        return AccountRepository(session).statement(reference, today)


# --- the same books, the same answer -------------------------------------------------------------


def test_both_sources_satisfy_the_one_interface(books, fake, clients):
    with books.unit_of_work() as session:
        assert isinstance(AccountRepository(session), AccountSource)
    assert isinstance(CoreBankingAccounts(clients(fake)), AccountSource)


@pytest.mark.parametrize("reference", REFERENCES)
@pytest.mark.parametrize("days_later", [0, 45])
def test_the_statement_from_the_core_equals_the_local_statement_of_the_same_books(
        books, fake, clients, reference, days_later):
    today = TODAY + timedelta(days=days_later)
    remote = CoreBankingAccounts(clients(fake)).statement(reference, today)
    assert remote == local_statement(books, reference, today)


def test_the_extra_history_really_moves_the_figures(books, fake, clients):
    remote = CoreBankingAccounts(clients(fake)).statement("HCF-1001", TODAY)
    assert remote.arrears != Decimal("3930.00")  # the demo figure without the payments and charges above
    assert remote.penalty_interest > 0 and remote.late_fees == Decimal("180.00")


def test_the_books_keep_the_lenders_ids_and_the_policys_allocation_order(books, fake, clients):
    order = ("interest", "principal", "fees")
    source = CoreBankingAccounts(clients(fake), order)
    books_read = source.books("HCF-1001")
    assert {p.external_id for p in books_read.payments} >= {"PAY-X1", "PAY-X2", "PAY-X3"}
    assert any(p.note == "by phone" for p in books_read.payments)
    with books.unit_of_work() as session:
        assert source.statement("HCF-1001", TODAY) == AccountRepository(session, order).statement("HCF-1001", TODAY)


def test_the_account_document_serves_the_loan_its_borrower_and_the_identity_in_one_request(fake, clients):
    source = CoreBankingAccounts(clients(fake))
    loan = source.loan_by_reference("HCF-2002")
    borrower = source.borrower_of(loan)
    identity = source.identity("HCF-2002")
    assert (loan.currency, loan.annual_rate, borrower.full_name) == ("CNY", Decimal("0.156"), "王芳 (Wang Fang)")
    assert (identity.reference, identity.date_of_birth) == ("HCF-2002", date(1992, 11, 3))
    assert fake.requests == ["/accounts/HCF-2002"]


def test_an_unknown_reference_is_none_after_one_request(fake, clients):
    source = CoreBankingAccounts(clients(fake))
    assert source.statement("HCF-9999", TODAY) is None
    assert source.identity("HCF-9999") is None and source.loan_by_reference("HCF-9999") is None
    assert fake.requests == ["/accounts/HCF-9999"]  # 404 is an answer: never retried, asked once per unit of work


def test_a_reference_is_one_path_segment_whatever_it_holds(fake, clients):
    assert CoreBankingAccounts(clients(fake)).identity("HCF-1001/schedule") is None
    assert fake.requests == ["/accounts/HCF-1001%2Fschedule"]


# --- verification reads through the interface ----------------------------------------------------


def attempt(db, source, ref, dob, conversation="c1"):
    with db.unit_of_work() as session:
        return verify_identity(session, loan_reference=ref, date_of_birth=dob, conversation_id=conversation,
                               channel="rest", now=NOW, rule=LockoutRule(), accounts=source(session))


def test_verification_reads_the_core_banking_system_not_the_local_tables(database, fake, clients):
    client = clients(fake)
    source = lambda session: CoreBankingAccounts(client)  # noqa: E731
    # `database` holds no loan at all: only the core-banking system knows Alex Morgan.
    assert attempt(database, source, "HCF-1001", date(1988, 4, 12)).outcome is Outcome.VERIFIED
    wrong = attempt(database, source, "HCF-1001", date(1988, 4, 13))
    unknown = attempt(database, source, "HCF-9999", date(1988, 4, 12))
    assert wrong.outcome is unknown.outcome is Outcome.MISMATCH
    with database.unit_of_work() as session:
        reasons = session.execute(select(VerificationAttempt.reason).order_by(VerificationAttempt.id)).scalars().all()
    assert reasons == [None, "wrong_date_of_birth", "unknown_reference"]


def test_verification_while_the_core_is_down_records_no_attempt(database, fake, clients):
    client = clients(fake, retries=0)
    fake.stop()
    with pytest.raises(AccountsUnavailable):
        attempt(database, lambda session: CoreBankingAccounts(client), "HCF-1001", date(1988, 4, 12))
    with database.unit_of_work() as session:
        assert session.execute(select(func.count(VerificationAttempt.id))).scalar_one() == 0


def test_verification_without_a_source_still_reads_the_local_tables(demo_database):
    with demo_database.unit_of_work() as session:
        result = verify_identity(session, loan_reference="HCF-3003", date_of_birth=date(1979, 6, 25),
                                 conversation_id="c1", channel="rest", now=NOW, rule=LockoutRule())
    assert result.outcome is Outcome.VERIFIED and result.borrower_name == "陈伟 (Chen Wei)"


# --- timeouts, retries, the breaker --------------------------------------------------------------


def test_a_slow_system_times_out_within_bounded_time_and_is_not_asked_twice(fake, clients):
    fake.mode, fake.delay = "slow", 5.0
    source = CoreBankingAccounts(clients(fake, read_timeout=0.3, retries=2))
    started = time.monotonic()
    with pytest.raises(AccountsUnavailable, match="timed out"):
        source.statement("HCF-1001", TODAY)
    assert time.monotonic() - started < 1.5
    assert fake.request_count == 1  # a slow system is not loaded with retries


def test_503s_are_retried_with_backoff_then_the_answer_is_used(books, fake, clients):
    fake.fail_next = 2
    statement = CoreBankingAccounts(clients(fake, retries=2)).statement("HCF-3003", TODAY)
    assert statement == local_statement(books, "HCF-3003")
    assert fake.requests[:3] == ["/accounts/HCF-3003"] * 3


def test_retries_are_bounded(fake, clients):
    fake.mode = "error"
    with pytest.raises(AccountsUnavailable, match="HTTP 500"):
        CoreBankingAccounts(clients(fake, retries=2, breaker_failures=100)).identity("HCF-1001")
    assert fake.request_count == 3


def test_a_refused_token_is_never_retried(fake, clients):
    source = CoreBankingAccounts(CoreBankingClient(replace(settings_for(fake), token="wrong")))
    with pytest.raises(AccountsUnavailable, match="401"):
        source.identity("HCF-1001")
    assert fake.request_count == 1
    source.client.close()


def test_a_system_that_is_not_there_is_unavailable_quickly(fake, clients):
    client = clients(fake, retries=2)
    fake.stop()
    started = time.monotonic()
    with pytest.raises(AccountsUnavailable, match="cannot connect"):
        CoreBankingAccounts(client).identity("HCF-1001")
    assert time.monotonic() - started < 2


def test_the_breaker_opens_after_n_failures_and_stops_calling_the_system(fake, clients):
    fake.mode = "error"
    client = clients(fake, retries=0, breaker_failures=3, breaker_cooldown=30)
    for _ in range(3):
        with pytest.raises(AccountsUnavailable, match="HTTP 500"):
            CoreBankingAccounts(client).identity("HCF-1001")
    assert client.breaker.state == "open"
    started = time.monotonic()
    for _ in range(20):
        with pytest.raises(BreakerOpen):
            CoreBankingAccounts(client).statement("HCF-1001", TODAY)
    assert time.monotonic() - started < 0.5
    assert fake.request_count == 3


def test_the_breaker_opens_in_the_middle_of_retries(fake, clients):
    fake.mode = "error"
    client = clients(fake, retries=5, breaker_failures=2, breaker_cooldown=30)
    with pytest.raises(BreakerOpen):
        CoreBankingAccounts(client).identity("HCF-1001")
    assert fake.request_count == 2


def test_after_the_cooldown_one_trial_request_closes_the_breaker(books, fake, clients):
    fake.mode = "error"
    client = clients(fake, retries=0, breaker_failures=2, breaker_cooldown=0.6)
    for _ in range(2):
        with pytest.raises(AccountsUnavailable):
            CoreBankingAccounts(client).identity("HCF-1001")
    fake.mode = "ok"
    with pytest.raises(BreakerOpen):
        CoreBankingAccounts(client).identity("HCF-1001")
    time.sleep(0.65)
    assert client.breaker.state == "half_open"
    assert CoreBankingAccounts(client).statement("HCF-1001", TODAY) == local_statement(books, "HCF-1001")
    assert client.breaker.state == "closed"
    assert fake.request_count == 2 + 4  # the failures, then the account, schedule, payments and charges


def test_a_failed_trial_opens_the_breaker_again_at_once(fake, clients):
    fake.mode = "error"
    client = clients(fake, retries=3, breaker_failures=2, breaker_cooldown=0.3)
    with pytest.raises(BreakerOpen):
        CoreBankingAccounts(client).identity("HCF-1001")
    time.sleep(0.35)
    with pytest.raises(BreakerOpen):  # the trial fails, and its retries are refused by the re-opened breaker
        CoreBankingAccounts(client).identity("HCF-1001")
    assert fake.request_count == 3
    assert client.breaker.state == "open"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_half_open_lets_exactly_one_trial_through_among_many_threads():
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown=10, clock=clock)
    breaker.failed()
    clock.now = 10.0
    passed, start = [], threading.Barrier(16)

    def call() -> None:
        start.wait()
        try:
            breaker.allow()
            passed.append(True)
        except BreakerOpen:
            pass
    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert passed == [True]
    breaker.succeeded()
    assert breaker.state == "closed"


def test_a_trial_that_never_reports_does_not_keep_the_breaker_shut_for_ever():
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown=10, clock=clock)
    breaker.failed()
    clock.now = 10.0
    breaker.allow()  # the trial, whose thread then dies
    with pytest.raises(BreakerOpen):
        breaker.allow()
    clock.now = 20.0
    breaker.allow()  # a new trial after another cool-down


def test_successes_between_failures_keep_the_breaker_closed():
    breaker = CircuitBreaker(failures=3, cooldown=10, clock=Clock())
    for _ in range(10):
        breaker.failed()
        breaker.failed()
        breaker.succeeded()
    assert breaker.state == "closed"


# --- answers that are not the books ----------------------------------------------------------------


def test_an_answer_that_is_not_json_is_unavailable_and_counts_as_a_failure(fake, clients, caplog):
    fake.mode = "bad_json"
    client = clients(fake, retries=0)
    with caplog.at_level(logging.WARNING), pytest.raises(AccountsUnavailable, match="not UTF-8 JSON"):
        CoreBankingAccounts(client).identity("HCF-1001")
    assert "not UTF-8 JSON" in caplog.text


def corrupt(path, change):
    def apply(fake):
        change(fake.loans["HCF-1001"][path])
    return apply


BAD_DOCUMENTS = {
    "money as a JSON number": corrupt("", lambda d: d.update(principal=20000.0)),
    "money with a third decimal": corrupt("/schedule", lambda d: d["instalments"][0].update(amount="1250.001")),
    "negative money": corrupt("/payments", lambda d: d["payments"][0].update(amount="-1250.00")),
    "another loan's document": corrupt("/payments", lambda d: d.update(loan_reference="HCF-2002")),
    "a schedule cut short": corrupt("/schedule", lambda d: d["instalments"].pop()),
    "parts that do not add up": corrupt("/schedule", lambda d: d["instalments"][3].update(interest="0.01")),
    "a payment to no such instalment": corrupt("/payments", lambda d: d["payments"][0].update(instalment_number=99)),
    "an unknown payment status": corrupt("/payments", lambda d: d["payments"][0].update(status="pending")),
    "a date that does not exist": corrupt("/charges", lambda d: d["charges"][0].update(charged_on="2026-02-30")),
    "waived as a string": corrupt("/charges", lambda d: d["charges"][0].update(waived="no")),
    "a list that is not a list": corrupt("/charges", lambda d: d.update(charges={"0": {}})),
    "a rate of 18 (not 0.18)": corrupt("", lambda d: d.update(annual_rate="18")),
    "the borrower missing": corrupt("", lambda d: d.pop("borrower")),
    "a payment id twice": corrupt("/payments", lambda d: d["payments"].append(copy.deepcopy(d["payments"][0]))),
}


@pytest.mark.parametrize("damage", list(BAD_DOCUMENTS), ids=list(BAD_DOCUMENTS))
def test_a_document_that_fails_validation_is_unavailable_with_the_reason_logged(fake, clients, caplog, damage):
    BAD_DOCUMENTS[damage](fake)
    client = clients(fake)
    with caplog.at_level(logging.ERROR), pytest.raises(AccountsUnavailable, match="unusable"):
        CoreBankingAccounts(client).statement("HCF-1001", TODAY)
    assert "unusable" in caplog.text
    assert client.breaker.state == "closed"  # one bad record is not an outage for every borrower
    assert CoreBankingAccounts(client).statement("HCF-2002", TODAY) is not None


def test_an_answer_too_large_is_refused(fake, clients, monkeypatch):
    import bot.accounts.core_banking as core_banking

    monkeypatch.setattr(core_banking, "MAX_ANSWER_BYTES", 1000)
    with pytest.raises(AccountsUnavailable, match="larger than"):
        CoreBankingAccounts(clients(fake)).statement("HCF-1001", TODAY)


# --- configuration -------------------------------------------------------------------------------


def test_the_local_tables_are_the_default_source():
    assert load_accounts_settings({}).core_banking is None
    assert load_accounts_settings({"ACCOUNTS_SOURCE": "local"}).source == "local"


def test_core_banking_settings_are_read_with_defaults():
    loaded = load_accounts_settings(core_env(CORE_BANKING_URL="https://core.example/api/", CORE_BANKING_TOKEN="t0ken",
                                             CORE_BANKING_TIMEOUT_SECONDS="3.5", CORE_BANKING_RETRIES="1"))
    core = loaded.core_banking
    assert (core.base_url, core.read_timeout, core.retries, core.breaker_failures) == (
        "https://core.example/api", 3.5, 1, 5)
    assert "t0ken" not in repr(core) and "t0ken" not in core.describe()


def core_env(**changes: str | None) -> dict[str, str]:
    """A valid core-banking configuration with `changes` (None removes a variable)."""
    env = {"ACCOUNTS_SOURCE": "core_banking", "CORE_BANKING_URL": "https://core.example", "CORE_BANKING_TOKEN": "t"}
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


@pytest.mark.parametrize("env, named", [
    (core_env(ACCOUNTS_SOURCE="mainframe"), "ACCOUNTS_SOURCE"),
    (core_env(CORE_BANKING_URL=None), "CORE_BANKING_URL"),
    (core_env(CORE_BANKING_TOKEN=None), "CORE_BANKING_TOKEN"),
    (core_env(CORE_BANKING_TOKEN="two words"), "CORE_BANKING_TOKEN"),
    (core_env(CORE_BANKING_URL="http://core.example"), "must be https"),
    (core_env(CORE_BANKING_URL="https://user:pw@core.example"), "no credentials"),
    (core_env(CORE_BANKING_URL="ftp://core.example"), "CORE_BANKING_URL"),
    (core_env(CORE_BANKING_TIMEOUT_SECONDS="soon"), "CORE_BANKING_TIMEOUT_SECONDS"),
    (core_env(CORE_BANKING_TIMEOUT_SECONDS="0"), "CORE_BANKING_TIMEOUT_SECONDS"),
    (core_env(CORE_BANKING_CONNECT_TIMEOUT_SECONDS="nan"), "CORE_BANKING_CONNECT_TIMEOUT_SECONDS"),
    (core_env(CORE_BANKING_RETRIES="-1"), "CORE_BANKING_RETRIES"),
    (core_env(CORE_BANKING_BREAKER_FAILURES="0"), "CORE_BANKING_BREAKER_FAILURES"),
])
def test_a_bad_setting_is_a_start_up_error_naming_it(env, named):
    with pytest.raises(ConfigError, match=named):
        load_accounts_settings(env)


def test_plain_http_is_allowed_to_this_machine_only():
    for url in ("http://127.0.0.1:8080", "http://localhost:9000/core", "http://[::1]:9000"):
        assert load_accounts_settings(core_env(CORE_BANKING_URL=url)).core_banking.base_url == url


def test_show_settings_names_the_source_without_the_token(tmp_path):
    shown = run_cli(tmp_path, "show-settings", ACCOUNTS_SOURCE="core_banking",
                    CORE_BANKING_URL="https://core.lender.example/v1", CORE_BANKING_TOKEN="secret-core-token-1")
    assert shown.returncode == 0, shown.stderr
    assert "core-banking system at https://core.lender.example/v1" in shown.stdout
    assert "secret-core-token-1" not in shown.stdout + shown.stderr
    refused = run_cli(tmp_path, "show-settings", ACCOUNTS_SOURCE="core_banking")
    assert refused.returncode == 2 and "CORE_BANKING_URL" in refused.stderr
