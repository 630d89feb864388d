"""A Rasa tracker as the agent reads it: who said what, and when the bot paused or resumed."""
from __future__ import annotations

from typing import Any

SLOTS_SHOWN = ("language", "verified", "verified_loan_ref", "hardship_cause", "monthly_income",
               "monthly_costs", "offers_made", "handoff_reason", "pending_offer")


def transcript(tracker: dict[str, Any], after: int = 0) -> list[dict[str, Any]]:
    """Entries {id, speaker: borrower|bot|agent|system, text, at, agent_name?, intent?} in order.

    An entry's id is its event's position in the conversation (1, 2, ...): events are only ever
    appended, so ids grow, and `after` keeps only the entries newer than the one a console shows last.
    """
    entries: list[dict[str, Any]] = []
    for position, event in enumerate(tracker.get("events") or [], start=1):
        entry = _entry(event) if position > after else None
        if entry is not None:
            entries.append({"id": position, **entry})
    return entries


def _entry(event: dict[str, Any]) -> dict[str, Any] | None:
    kind, at = event.get("event"), event.get("timestamp")
    if kind == "user":
        text = event.get("text") or ""
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if text.startswith("/EXTERNAL_") or (intent or "").startswith("EXTERNAL_"):
            return {"speaker": "system", "text": f"console: {intent or text[1:]}", "at": at}
        return {"speaker": "borrower", "text": text, "at": at, "intent": intent}
    if kind == "bot":
        metadata = event.get("metadata") or {}
        if metadata.get("agent_name"):
            return {"speaker": "agent", "agent_name": metadata["agent_name"],
                    "text": metadata.get("agent_text") or event.get("text") or "", "at": at}
        return {"speaker": "bot", "text": event["text"], "at": at} if event.get("text") else None
    if kind == "pause":
        return {"speaker": "system", "text": "bot paused: waiting for an agent", "at": at}
    if kind == "resume":
        return {"speaker": "system", "text": "bot resumed", "at": at}
    return None


def visible_slots(tracker: dict[str, Any]) -> dict[str, Any]:
    slots = tracker.get("slots") or {}
    return {name: slots.get(name) for name in SLOTS_SHOWN if slots.get(name) not in (None, "")}
