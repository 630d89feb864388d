"""With another LOAN_REFERENCE_FORMAT, borrowers are asked for a reference of that format (the example in
the prompt is generated from it, in both languages) and verify with one typed their way."""
from __future__ import annotations

import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from sqlalchemy import update

from actions.verification import ActionVerifyIdentity
from bot.accounts.models import Loan
from tests.actions.conftest import make_tracker, responses, run, slot_events


def rendered(message: dict, domain: dict, language: str) -> str:
    """The text Rasa makes of a custom action's response: the variant for the language slot, filled
    with the values the action sent (as rasa.core.actions.action.RemoteAction does)."""
    values = {key: value for key, value in message.items() if key != "response"}
    generator = TemplatedNaturalLanguageGenerator(domain["responses"])
    return generator.generate_from_slots(message["response"], {"language": language}, "rest", **values)["text"]


@pytest.mark.parametrize("language, wording", [
    ("en", "it looks like ACC-123456) and your date of birth, for example: ACC-123456, 31 January 1990"),
    ("zh", "（形如 ACC-123456）和出生日期，例如：ACC-123456，1990年1月31日"),
])
async def test_the_identity_prompt_shows_the_example_of_the_configured_format(
        reference_format, services, domain, language, wording):
    reference_format("ACC-#{6,10}")
    messages, _ = await run(ActionVerifyIdentity(), make_tracker(
        "hello", "greet", slots={"opened": False, "language": language}), domain)
    assert responses(messages) == ["utter_opening", "utter_ask_identity"]
    text = rendered(messages[1], domain, language)
    assert wording in text and "HCF" not in text and "{" not in text


@pytest.mark.parametrize("language, wording", [
    ("en", "Now please send your loan reference (it looks like ACC-123456)."),
    ("zh", "请再发送您的贷款编号（形如 ACC-123456）。"),
])
async def test_asking_for_the_reference_alone_shows_the_configured_example(
        reference_format, services, domain, language, wording):
    reference_format("ACC-#{6,10}")
    messages, _ = await run(ActionVerifyIdentity(), make_tracker(
        "12 April 1988", "provide_identity", slots={"language": language}), domain)
    assert responses(messages) == ["utter_ask_loan_ref"]
    assert wording in rendered(messages[0], domain, language)


async def test_the_default_prompt_still_shows_hcf_1234(services, domain):
    messages, _ = await run(ActionVerifyIdentity(), make_tracker("hello", "greet", slots={"opened": False}), domain)
    assert "(it looks like HCF-1234)" in rendered(messages[1], domain, "en")


async def test_a_borrower_verifies_with_a_reference_of_the_configured_format_typed_their_way(
        reference_format, services, domain):
    reference_format("ACC-#{6,10}")
    with services.db.unit_of_work() as session:
        session.execute(update(Loan).where(Loan.reference == "HCF-1001").values(reference="ACC-100100"))
    messages, events = await run(ActionVerifyIdentity(), make_tracker("acc 100100 12/04/1988", "provide_identity"),
                                 domain)
    assert responses(messages)[:2] == ["utter_verified", "utter_arrears"]
    assert slot_events(events)["verified_loan_ref"] == "ACC-100100"
    assert messages[1]["loan_ref"] == "ACC-100100"
