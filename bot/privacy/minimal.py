"""The minimal forms records are kept in once personal data is erased from them (pure).

- A conversation id in a kept record becomes a random pseudonym (`erased:` + 16 hex), the same
  for every record of that conversation, so the records still show they came from one
  conversation, but no longer name a Telegram chat or a widget session.
- An escalation's summary keeps what describes the handling (reason, priority history, loan,
  amounts owed, offers) and loses what the borrower said or disclosed (their last messages,
  the cause of hardship, income, costs): an allowlist, so a key added later is dropped too.
- An agreement keeps its reference, terms, amounts, policy version, verification method and the
  time of acceptance; the borrower's name and the words they accepted with are replaced.
"""
from __future__ import annotations

import json
import secrets
from datetime import date

from bot.accounts.models import ERASED_NAME_PREFIX

PSEUDONYM_PREFIX = "erased:"
ERASED_TEXT = "[erased]"
ERASED_ON_REQUEST = "erased_on_request"  # the outcome of an open escalation closed by a forget

# Escalation summary keys that describe the handling, not the person (bot/handoff/queue.py).
SUMMARY_KEYS_KEPT = frozenset({
    "verified", "loan_ref", "arrears", "currency", "days_past_due", "language", "triggered_by",
    "offers_made", "proposed_offer", "reasons", "offer_decision", "hand_back_taken_at",
})


def new_pseudonym() -> str:
    return PSEUDONYM_PREFIX + secrets.token_hex(8)


def is_pseudonym(conversation_id: str | None) -> bool:
    return bool(conversation_id) and conversation_id.startswith(PSEUDONYM_PREFIX)


def erased_name() -> str:
    """A name for an erased borrower: random, so nothing about the real name can be recovered."""
    return ERASED_NAME_PREFIX + secrets.token_hex(4)


def is_erased_name(name: str | None) -> bool:
    return bool(name) and name.startswith(ERASED_NAME_PREFIX)


def erased_acceptance(on: date) -> str:
    return f"[erased on request on {on.isoformat()}]"


def minimal_summary(summary: str | None) -> str:
    """The escalation summary JSON without what the borrower said or disclosed."""
    try:
        parsed = json.loads(summary or "{}")
    except ValueError:
        return "{}"
    if not isinstance(parsed, dict):
        return "{}"
    return json.dumps({k: v for k, v in parsed.items() if k in SUMMARY_KEYS_KEPT}, ensure_ascii=False)


def summary_needs_scrub(summary: str | None) -> bool:
    return minimal_summary(summary) != _normalised(summary)


def _normalised(summary: str | None) -> str:
    try:
        return json.dumps(json.loads(summary or "{}"), ensure_ascii=False)
    except ValueError:
        return summary or ""


def minimal_agreement_terms(terms_json: str, *, borrower_name: str, acceptance_text: str,
                            conversation_id: str) -> str:
    """The agreement's frozen record with the name, the acceptance words and the conversation replaced.

    The keys stay, so the agreement document still renders (with the replacements shown)."""
    record = json.loads(terms_json)
    for key, value in (("borrower_name", borrower_name), ("acceptance_text", acceptance_text),
                       ("conversation_id", conversation_id)):
        if key in record:
            record[key] = value
    return json.dumps(record, ensure_ascii=False)
