"""An agreement signed through the real negotiation action, then forgotten: the minimal record still
renders as the agreement document, with the terms and the time of acceptance and without the name."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from actions.common import utc_now
from bot.agreements.document import render_agreement_html
from bot.agreements.models import Agreement
from bot.privacy import TrackerEvents, forget
from tests.actions.conftest import domain, services  # noqa: F401  (the action tests' fixtures)
from tests.actions.test_agreement_signing import to_confirm_step
from tests.actions.test_negotiation_actions import Borrower


async def test_a_forgotten_agreement_keeps_its_terms_and_still_renders(services, domain, tmp_path):  # noqa: F811
    alex = Borrower("HCF-1001")
    await to_confirm_step(alex, domain)
    await alex.says("I agree, Alex Morgan", "accept_agreement", domain)
    with services.db.unit_of_work() as session:
        signed = session.execute(select(Agreement)).scalar_one()
    assert "Alex Morgan" in signed.terms_json

    forget(services.db, TrackerEvents(f"sqlite:///{tmp_path / 'none.db'}"), "HCF-1001", now=utc_now())

    with services.db.unit_of_work() as session:
        kept = session.execute(select(Agreement)).scalar_one()
    before, after = json.loads(signed.terms_json), json.loads(kept.terms_json)
    assert after["terms"] == before["terms"] and after["balance"] == before["balance"]
    assert after["accepted_at"] == before["accepted_at"] and after["verification"] == before["verification"]
    assert "Alex" not in kept.terms_json and "test-conversation" not in kept.terms_json
    html = render_agreement_html(kept.terms_json, kept.reference, kept.language)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "Alex" not in text and kept.borrower_name in text and "[erased on request on " in text
    assert kept.reference in text
