"""Signing as the borrower and the lender need it: once per offer, only what was shown, and
account questions answered from the plan afterwards."""
from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from actions.account import ActionShowArrears
from actions.negotiation import ActionNegotiate
from bot.agreements.document import render_agreement_html
from bot.agreements.models import Agreement, OfferRecord
from bot.agreements.service import sign_agreement
from bot.messages import parse_payload
from tests.actions.conftest import make_tracker, responses, run
from tests.actions.test_negotiation_actions import Borrower, by_response
from tests.payloads import domain_custom_payloads


async def to_confirm_step(borrower: Borrower, domain: dict, lang: str = "en") -> list[dict]:
    if lang == "zh":
        await borrower.says("我失业了", "explain_hardship", domain)
        await borrower.says("收入8000，开支6000", "inform_finances", domain)
        return await borrower.says("方案1", "choose_option", domain)
    await borrower.says("I had big medical bills this year", "explain_hardship", domain)
    await borrower.says("I earn 9000 and my costs are 7200", "inform_finances", domain)
    return await borrower.says("Option 1", "choose_option", domain)


def agreement_count(services) -> int:
    with services.db.unit_of_work() as session:
        return session.execute(select(func.count()).select_from(Agreement)).scalar_one()


async def test_agreeing_twice_signs_one_agreement_and_answers_the_repeat_with_it(services, domain):
    alex = Borrower("HCF-1001")
    await to_confirm_step(alex, domain)
    pending = alex.slots["pending_offer"]
    first = by_response(await alex.says("I agree", "accept_agreement", domain), "utter_agreement_signed")[0]
    # The turn was lost (a channel crashed before Rasa saved it): the same confirm step comes again.
    alex.slots.update(stage="confirm", pending_offer=pending)
    repeat = await alex.says("我同意", "accept_agreement", domain)
    assert "utter_agreement_signed" not in responses(repeat)
    assert by_response(repeat, "utter_agreement_already_signed")[0]["reference"] == first["reference"]
    assert agreement_count(services) == 1


async def test_i_agree_again_after_signing_is_answered_with_the_same_agreement(services, domain):
    alex = Borrower("HCF-1001")
    await to_confirm_step(alex, domain)
    first = by_response(await alex.says("I agree", "accept_agreement", domain), "utter_agreement_signed")[0]
    assert alex.slots["stage"] == "agreed"
    repeat = await alex.says("I agree", "accept_agreement", domain)
    assert responses(repeat) == ["utter_agreement_already_signed", "utter_agreement_link"]
    assert repeat[0]["reference"] == first["reference"] and agreement_count(services) == 1


def test_two_acceptances_racing_on_one_offer_write_one_agreement(services, monkeypatch):
    """A second process whose 'already signed?' check ran before the first one committed:
    the unique constraint refuses its insert and it answers with the winner's agreement."""
    import bot.agreements.service as service

    with services.db.unit_of_work() as session:
        offer = OfferRecord(conversation_id="c", loan_reference="HCF-1001", concessions="spread_arrears",
                            monthly="100.00", months=3, total_paid="300.00", authority="bot", rule="r",
                            policy_version="1", terms_json="{}", shown_at=datetime(2026, 12, 1), status="shown")
        session.add(offer)
        session.flush()
        offer_id = offer.id
    kwargs = dict(conversation_id="c", loan_reference="HCF-1001", borrower_name="Alex Morgan", language="en",
                  terms={"policy_version": "1"}, offer_record_id=offer_id, record={}, acceptance_text="I agree",
                  now=datetime(2026, 12, 1, 12))
    with services.db.unit_of_work() as session:
        first = sign_agreement(session, **kwargs)
    real_lookup = service.agreement_for_offer
    stale = iter([None])  # the check that ran before the winner committed
    monkeypatch.setattr(service, "agreement_for_offer", lambda s, i: next(stale, None) or real_lookup(s, i))
    with services.db.unit_of_work() as session:
        second = sign_agreement(session, **kwargs)
    assert first.created and not second.created
    assert second.agreement.reference == first.agreement.reference
    assert agreement_count(services) == 1


async def test_a_forged_pending_offer_signs_only_what_the_database_shows(services, domain):
    alex = Borrower("HCF-1001")
    await to_confirm_step(alex, domain)
    offer_id = json.loads(alex.slots["pending_offer"])["offer_record_id"]
    alex.slots["pending_offer"] = json.dumps({"offer_record_id": offer_id, "monthly": "1.00", "months": 1,
                                              "total_paid": "1.00", "schedule": []})
    await alex.says("I agree", "accept_agreement", domain)
    with services.db.unit_of_work() as session:
        agreement = session.execute(select(Agreement)).scalar_one()
        shown = session.get(OfferRecord, offer_id)
    assert json.loads(agreement.terms_json)["terms"] == json.loads(shown.terms_json)


async def test_an_offer_shown_in_another_conversation_cannot_be_signed_here(services, domain):
    alex = Borrower("HCF-1001")
    await to_confirm_step(alex, domain)
    pending = alex.slots["pending_offer"]
    Borrower("HCF-1001", conversation_id="another-conversation")  # verified there too, but shown nothing
    intruder = {**alex.slots, "stage": "confirm", "pending_offer": pending}
    messages, _ = await run(ActionNegotiate(), make_tracker("I agree", "accept_agreement", slots=intruder,
                                                            sender="another-conversation"), domain)
    assert responses(messages) == ["utter_no_plan_to_accept"]
    assert agreement_count(services) == 0


async def test_choices_come_with_buttons_that_send_plain_text(services, domain):
    alex = Borrower("HCF-1001")
    await alex.says("I had big medical bills this year", "explain_hardship", domain)
    messages = await alex.says("I earn 9000 and my costs are 7200", "inform_finances", domain)
    offers = by_response(messages, "utter_offer")
    choose = by_response(messages, "utter_choose_offer")[0]
    titles = [b["title"] for b in choose["buttons"]]
    assert titles == [f"Option {n}" for n in range(1, len(offers) + 1)] + ["Talk to a person"]
    assert all(b["payload"] == b["title"] and not b["payload"].startswith("/") for b in choose["buttons"])
    confirm_buttons = [v for v in domain["responses"]["utter_confirm_terms"] if "buttons" in v]
    assert len(confirm_buttons) == 2  # both languages
    for variation in confirm_buttons:
        assert all(not b["payload"].startswith("/") for b in variation["buttons"])


def test_every_custom_payload_in_the_domain_has_the_one_shape():
    customs = domain_custom_payloads()
    assert {"utter_agreement_link[en]", "utter_agreement_link[zh]"} <= set(customs)
    for payload in customs.values():
        parse_payload(payload)  # raises on any other shape


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_after_the_agreement_account_questions_answer_from_the_plan(services, domain, lang):
    borrower = Borrower("HCF-1001" if lang == "en" else "HCF-2002", language=lang)
    await to_confirm_step(borrower, domain, lang)
    await borrower.says("I agree", "accept_agreement", domain)
    with services.db.unit_of_work() as session:
        terms = json.loads(session.execute(select(Agreement)).scalar_one().terms_json)["terms"]
    messages, _ = await run(ActionShowArrears(), make_tracker("when is my first payment?", "ask_arrears",
                                                              slots=borrower.slots), domain)
    assert responses(messages) == ["utter_plan_status"]
    status = messages[0]
    assert status["number"] == 1 and status["months"] == terms["months"]
    assert status["next_amount"].replace(",", "").endswith(terms["schedule"][0]["amount"])


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_agreement_document_reads_in_the_borrowers_words(services, domain, lang):
    borrower = Borrower("HCF-1001" if lang == "en" else "HCF-2002", language=lang)
    await to_confirm_step(borrower, domain, lang)
    await borrower.says("I agree", "accept_agreement", domain)
    with services.db.unit_of_work() as session:
        agreement = session.execute(select(Agreement)).scalar_one()
        html = render_agreement_html(agreement.terms_json, agreement.reference, agreement.language)
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", body)
    for internal in ("spread_arrears", "term_extension", "socketio", "(rest)", "month(s)"):
        assert internal not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}", text), "no ISO timestamps"
    first_row = re.search(r"<tr><th>(.*?)</th>", body).group(1)
    assert first_row == ("每月还款" if lang == "zh" else "Monthly payment")
    if lang == "zh":
        # Every clause in the document's language: no English sentence outside names and the dispute channel.
        assert "plan ends" not in text and "verified" not in text and "任何一期逾期超过 30 天" in text
