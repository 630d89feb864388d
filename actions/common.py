"""What every action shares: services, the borrower's language, the opening, verification state."""
from __future__ import annotations

import abc
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.phrasing import choice_buttons
from actions.understanding import ROUTES, last_bot_turn, understood
from bot.accounts.core_banking import CoreBankingAccounts, CoreBankingClient
from bot.accounts.repository import AccountRepository
from bot.accounts.settings import load_accounts_settings
from bot.accounts.source import AccountSource, AccountsUnavailable
from bot.dialogue import ASK_AGAIN, ASKS, PROTECTED_INTENTS, SIDE_INTENTS, Understanding
from bot.config import Settings, load_settings, loan_reference_format
from bot.negotiation import Policy, load_policy
from bot.storage import Database
from bot.verification.sessions import Verification, current_verification as verification_of

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    policy: Policy
    # The lender's core-banking system when ACCOUNTS_SOURCE=core_banking; None: the books are the local tables.
    core_banking: CoreBankingClient | None = None


_services: Services | None = None


def services() -> Services:
    """The action server's settings and database, created on first use (never at import)."""
    global _services
    if _services is None:
        settings = load_settings()
        source = load_accounts_settings()
        _services = Services(settings=settings, db=Database(settings.database_url),
                             policy=load_policy(settings.policy_path),
                             core_banking=CoreBankingClient(source.core_banking) if source.core_banking else None)
    return _services


def use_services(value: Services | None) -> None:
    """Point the actions at other services (tests use a temporary database)."""
    global _services
    _services = value


def accounts(session) -> AccountSource:
    """The lender's books for this unit of work, payments applied by the policy's rule: the local
    tables, or the core-banking system when configured (ACCOUNTS_SOURCE). Its reads may raise
    `AccountsUnavailable`, which `BorrowerAction` answers."""
    order = services().policy.payments.within_instalment
    if services().core_banking is None:
        return AccountRepository(session, order)
    return CoreBankingAccounts(services().core_banking, order)


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
        lender_contact_zh=settings.lender_contact_zh,
        # From the format the parsers read (not a copy in settings): what is asked for is what is understood.
        loan_ref_example=loan_reference_format().example,
        **values,
    )


def current_verification(tracker: Tracker) -> Verification | None:
    """This conversation's verification as the server recorded it, while in use; None otherwise.

    Decided from the database for `tracker.sender_id`, never from slots alone: whoever
    reaches the action server can send any slots. The `verified` slot must also be set,
    so that Rasa's own resets (restart, a new session) still end verification. Using the
    verification renews its idle period (VERIFICATION_IDLE_MINUTES).
    """
    if tracker.get_slot("verified") is not True:
        return None
    idle = timedelta(minutes=services().settings.verification_idle_minutes)
    with services().db.unit_of_work() as session:
        return verification_of(session, tracker.sender_id, now=utc_now(), idle=idle)


def verified_reference(tracker: Tracker) -> str | None:
    """The loan reference this conversation is verified for, from the server's record; None when not verified."""
    verification = current_verification(tracker)
    return verification.loan_reference if verification else None


def is_verified(tracker: Tracker) -> bool:
    """Verified by the server for this conversation and active within the idle period."""
    return current_verification(tracker) is not None


def keep_verified() -> list[EventType]:
    """Slot events that keep the dialogue's view of a verified borrower current.

    The server-side idle period is renewed by `current_verification` (every check is
    activity); the slot only mirrors it for the transcript.
    """
    return [SlotSet("verified_at", time.time())]


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def resume_after_side_question(dispatcher: CollectingDispatcher, tracker: Tracker, turn: Understanding,
                                said: list[dict]) -> None:
    """After a side question mid-flow ("how much do I owe?" while asked for income), ask the
    open question again, unless the answer already asked one."""
    if turn.intent not in SIDE_INTENTS or turn.step is None:
        return
    if any(message.get("response") in ASKS for message in said):
        return
    again = ASK_AGAIN.get(turn.step.expect)
    if again == "utter_choose_offer":
        say(dispatcher, again, buttons=choice_buttons(len(tracker.get_slot("offers_made") or []), language(tracker)))
    elif again is not None:
        say(dispatcher, again)


def offered_buttons(tracker: Tracker) -> set[str]:
    """Titles and payloads of the buttons the bot's last turn offered (a press is one of these, exactly)."""
    offered: set[str] = set()
    users_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                break
        elif event.get("event") == "bot" and users_seen == 1:
            for button in (event.get("data") or {}).get("buttons") or []:
                offered.update(str(button.get(key) or "").strip() for key in ("title", "payload"))
    offered.discard("")
    return offered


def _import_every_action_module() -> None:
    """Register every BorrowerAction (the routing table names actions that live in other modules)."""
    import importlib
    import pkgutil

    import actions
    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")


class BorrowerAction(Action, abc.ABC):
    """Base of every conversational action: opening first, the turn read in context, database
    and account-system failures answered politely."""

    _subclasses: list[type[BorrowerAction]] = []
    # The assistant's opening comes first in a conversation, unless the action says who is writing itself.
    opens_conversation = True
    # Responses whose answer this action reads before any intent logic (the question owns its answer).
    reads_replies_to: tuple[str, ...] = ()
    # Protected intents (a person, a crisis) are never read as an answer, except these ones here.
    reads_protected: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        BorrowerAction._subclasses.append(cls)

    def handler(self, turn: Understanding) -> BorrowerAction:
        """The action that answers this turn as read in context (``actions.understanding``).

        Rasa chose this action from the classifier's intent; when the message answers the
        question the bot asked ("1 Jan 1990" after "please send your date of birth", whatever
        the classifier made of it), the action for that answer handles the turn instead.
        """
        target = ROUTES.get(turn.intent) if turn.reread else None
        if target is None or target == self.name():
            return self
        for _ in range(2):
            for cls in BorrowerAction._subclasses:
                if not getattr(cls, "__abstractmethods__", None) and cls().name() == target:
                    return cls()
            _import_every_action_module()  # the action server imports them all; anyone else may not have
        log.error("no action named %s to answer %s; %s answers instead", target, turn.intent, self.name())
        return self

    async def read_reply(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: DomainDict) -> list[EventType] | None:
        """The events when the latest message answers this action's question; None: it does not."""
        return None

    @staticmethod
    def reply_reader(tracker: Tracker) -> BorrowerAction | None:
        """The action that asked the question the latest message may answer (a request for a person,
        a crisis or a console trigger is never read as an answer)."""
        intent = latest_intent(tracker) or ""
        if intent.startswith("EXTERNAL_"):
            return None
        asked = set(last_bot_turn(tracker))
        for cls in BorrowerAction._subclasses:
            if not asked & set(cls.reads_replies_to) or getattr(cls, "__abstractmethods__", None):
                continue
            pressed = latest_text(tracker).strip() in offered_buttons(tracker)
            if intent in PROTECTED_INTENTS and intent not in cls.reads_protected and not pressed:
                return None
            return cls()
        return None

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = []
        if self.opens_conversation and not tracker.get_slot("opened"):
            say(dispatcher, "utter_opening")
            events.append(SlotSet("opened", True))
        try:
            reader = self.reply_reader(tracker)
            answered = await reader.read_reply(dispatcher, tracker, domain) if reader is not None else None
            if answered is not None:
                return events + answered
            turn = understood(tracker, today())
            already_said = len(dispatcher.messages)
            events += await self.handler(turn).act(dispatcher, tracker, domain)
            resume_after_side_question(dispatcher, tracker, turn, dispatcher.messages[already_said:])
            return events
        except SQLAlchemyError:
            log.exception("database unavailable in %s", self.name())
            services().db.dispose()  # reconnect from scratch once the database is back
            say(dispatcher, "utter_service_unavailable")
            return events
        except AccountsUnavailable as error:
            # The turn's slot events are dropped, so nothing the borrower has given is cleared.
            log.warning("account source unavailable in %s: %s", self.name(), error)
            say(dispatcher, "utter_service_unavailable")
            return events

    @abc.abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The action's own work, after the opening."""
