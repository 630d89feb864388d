"""Actions reading the books from a core-banking system (a fake one, tests/fake_core_banking.py): while it is
down the borrower hears so clearly, in their language, and loses nothing; once it is back, the answer comes."""
from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from actions.account import ActionShowArrears
from actions.common import use_services
from actions.handoff import ActionHandoff
from actions.verification import ActionVerifyIdentity
from bot.accounts.core_banking import CoreBankingClient
from bot.accounts.repository import AccountRepository
from bot.accounts.settings import CoreBankingSettings
from bot.handoff.queue import EscalationQueue, summary_of
from bot.verification.models import VerificationAttempt
from tests.actions.conftest import make_tracker, record_verification, responses, run, slot_events
from tests.fake_core_banking import TOKEN, FakeCoreBanking

COOLDOWN = 0.3


@pytest.fixture
def core(services):
    """The actions wired to a fake core-banking system serving the demo books (as of today)."""
    fake = FakeCoreBanking()
    with services.db.unit_of_work() as session:
        repository = AccountRepository(session)
        for reference in ("HCF-1001", "HCF-2002"):
            books = repository.books(reference)
            fake.serve(books, repository.borrower_of(books.loan))
    fake.start()
    client = CoreBankingClient(CoreBankingSettings(
        base_url=fake.url, token=TOKEN, connect_timeout=0.5, read_timeout=0.5, retries=1, backoff=0.01,
        breaker_failures=2, breaker_cooldown=COOLDOWN))
    use_services(replace(services, core_banking=client))
    yield fake
    use_services(services)
    client.close()
    fake.stop()


VERIFIED = {"verified": True, "verified_loan_ref": "HCF-1001", "verified_at": time.time(), "stage": "cause"}


async def test_how_much_do_i_owe_is_answered_from_the_core_banking_system(services, core, domain):
    record_verification(services.db, "HCF-1001")
    messages, _ = await run(ActionShowArrears(), make_tracker("how much do I owe", "ask_arrears", slots=VERIFIED), domain)
    assert responses(messages) == ["utter_arrears"]
    assert messages[0]["arrears"] == "CNY 3,930.00"
    assert core.request_count == 4


async def test_how_much_do_i_owe_while_the_core_is_down_gets_a_clear_answer_and_keeps_verification(
        services, core, domain):
    record_verification(services.db, "HCF-1001")
    core.stop()
    asked = make_tracker("how much do I owe", "ask_arrears", slots=VERIFIED)
    messages, events = await run(ActionShowArrears(), asked, domain)
    assert responses(messages) == ["utter_service_unavailable"]
    assert slot_events(events) == {}  # nothing cleared: still verified, still at the same stage
    english, chinese = (variant["text"] for variant in reversed(domain["responses"]["utter_service_unavailable"]))
    assert "try again in a few minutes" in english and "agent" in english
    assert "几分钟后再试" in chinese and "转人工" in chinese
    # Back up: after the breaker's cool-down the same question is answered, no new verification needed.
    core.start()
    time.sleep(COOLDOWN + 0.05)
    messages, _ = await run(ActionShowArrears(), asked, domain)
    assert responses(messages) == ["utter_arrears"]


async def test_identity_sent_while_the_core_is_down_is_kept_and_not_counted_as_an_attempt(services, core, domain):
    core.stop()
    messages, events = await run(ActionVerifyIdentity(), make_tracker("HCF-1001 12/04/1988", "provide_identity"),
                                 domain)
    assert responses(messages) == ["utter_service_unavailable"]
    kept = slot_events(events)
    assert kept == {"pending_loan_ref": "HCF-1001", "pending_dob": "1988-04-12"}
    with services.db.unit_of_work() as session:
        assert session.execute(select(func.count(VerificationAttempt.id))).scalar_one() == 0
    core.start()
    time.sleep(COOLDOWN + 0.05)
    messages, events = await run(ActionVerifyIdentity(), make_tracker("can you try again", "provide_identity",
                                                                      slots=kept), domain)
    assert responses(messages)[:2] == ["utter_verified", "utter_arrears"]
    assert slot_events(events)["verified"] is True


async def test_a_person_is_reached_even_while_the_core_is_down(services, core, domain):
    record_verification(services.db, "HCF-1001")
    core.stop()
    messages, events = await run(ActionHandoff(), make_tracker("I want a person", "request_human", slots=VERIFIED),
                                 domain)
    assert "utter_handoff_waiting" in responses(messages)
    assert {"event": "pause", "timestamp": None} in events
    with services.db.unit_of_work() as session:
        summary = summary_of(EscalationQueue(session).open_for("test-conversation"))
    assert summary["loan_ref"] == "HCF-1001" and "arrears" not in summary


async def test_a_borrower_verified_just_before_the_books_fail_stays_verified(services, core, domain):
    core.loans["HCF-1001"]["/schedule"]["instalments"].pop()  # the account answers, the books do not add up
    messages, events = await run(ActionVerifyIdentity(), make_tracker("HCF-1001 12/04/1988", "provide_identity"),
                                 domain)
    assert responses(messages) == ["utter_verified", "utter_service_unavailable"]
    assert slot_events(events)["verified"] is True and slot_events(events)["verified_loan_ref"] == "HCF-1001"
