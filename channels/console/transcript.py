"""A Rasa tracker as the agent reads it: who said what, and when the bot paused or resumed."""
from __future__ import annotations

from typing import Any

SLOTS_SHOWN = ("language", "verified", "verified_loan_ref", "hardship_cause", "monthly_income",
               "monthly_costs", "offers_made", "handoff_reason", "pending_offer")


def transcript(tracker: dict[str, Any]) -> list[dict[str, Any]]:
    """Entries {speaker: borrower|bot|agent|system, text, at, agent_name?, intent?} in order."""
    entries: list[dict[str, Any]] = []
    for event in tracker.get("events") or []:
        kind, at = event.get("event"), event.get("timestamp")
        if kind == "user":
            text = event.get("text") or ""
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if text.startswith("/EXTERNAL_") or (intent or "").startswith("EXTERNAL_"):
                entries.append({"speaker": "system", "text": f"console: {intent or text[1:]}", "at": at})
                continue
            entries.append({"speaker": "borrower", "text": text, "at": at, "intent": intent})
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            if metadata.get("agent_name"):
                entries.append({"speaker": "agent", "agent_name": metadata["agent_name"],
                                "text": metadata.get("agent_text") or event.get("text") or "", "at": at})
            elif event.get("text"):
                entries.append({"speaker": "bot", "text": event["text"], "at": at})
        elif kind == "pause":
            entries.append({"speaker": "system", "text": "bot paused: waiting for an agent", "at": at})
        elif kind == "resume":
            entries.append({"speaker": "system", "text": "bot resumed", "at": at})
    return entries


def visible_slots(tracker: dict[str, Any]) -> dict[str, Any]:
    slots = tracker.get("slots") or {}
    return {name: slots.get(name) for name in SLOTS_SHOWN if slots.get(name) not in (None, "")}
