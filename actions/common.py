"""What every action shares: services, the borrower's language, the opening, verification state."""
from __future__ import annotations

import abc
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, load_settings
from bot.negotiation import Policy, load_policy
from bot.storage import Database

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    policy: Policy


_services: Services | None = None


def services() -> Services:
    """The action server's settings and database, created on first use (never at import)."""
    global _services
    if _services is None:
        settings = load_settings()
        _services = Services(settings=settings, db=Database(settings.database_url),
                             policy=load_policy(settings.policy_path))
    return _services


def use_services(value: Services | None) -> None:
    """Point the actions at other services (tests use a temporary database)."""
    global _services
    _services = value


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today() -> date:
    return date.today()


def language(tracker: Tracker) -> str:
    return "zh" if tracker.get_slot("language") == "zh" else "en"


def say(dispatcher: CollectingDispatcher, response: str, **values: Any) -> None:
    """Dispatch a domain response with the lender's details always available to it."""
    settings = services().settings
    dispatcher.utter_message(
        response=response,
        lender_name=settings.lender_name,
        lender_contact=settings.lender_contact,
        **values,
    )


def is_verified(tracker: Tracker) -> bool:
    """Verified in this session and active within the configured idle period."""
    if tracker.get_slot("verified") is not True or not tracker.get_slot("verified_loan_ref"):
        return False
    verified_at = tracker.get_slot("verified_at") or 0
    return time.time() - float(verified_at) < services().settings.verification_idle_minutes * 60


def keep_verified() -> list[EventType]:
    """Renew the idle timer of a verified borrower."""
    return [SlotSet("verified_at", time.time())]


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


class BorrowerAction(Action, abc.ABC):
    """Base of every conversational action: opening first, database failures answered politely."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = []
        if not tracker.get_slot("opened"):
            say(dispatcher, "utter_opening")
            events.append(SlotSet("opened", True))
        try:
            return events + await self.act(dispatcher, tracker, domain)
        except SQLAlchemyError:
            log.exception("database unavailable in %s", self.name())
            services().db.dispose()  # reconnect from scratch once the database is back
            say(dispatcher, "utter_service_unavailable")
            return events

    @abc.abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The action's own work, after the opening."""
