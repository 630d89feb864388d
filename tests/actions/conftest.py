"""Run actions as the action server would: real domain.yml, a real temporary SQLite database."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Services, use_services, utc_now
from bot.config import load_settings
from bot.demo.seed import seed_demo_data
from bot.negotiation import load_policy
from bot.verification.sessions import start_verified_session
from tests.conftest import PROJECT_ROOT
from tests.e2e.stack import desk_always_open


@pytest.fixture(scope="session")
def domain() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


@pytest.fixture
def services(demo_database, tmp_path: Path):
    # Actions read the real clock: the demo loans must be as of the real today for their figures.
    with demo_database.unit_of_work() as session:
        seed_demo_data(session, date.today())
    settings = replace(load_settings(), var_dir=tmp_path, database_url=demo_database.url)
    wired = Services(settings=settings, db=demo_database, policy=desk_always_open(load_policy(settings.policy_path)))
    use_services(wired)
    yield wired
    use_services(None)


def bot_said(*responses: str) -> list[dict]:
    """Bot events as Rasa records a custom action's responses (the response name in the metadata)."""
    return [{"event": "bot", "text": "...", "metadata": {"utter_action": response}} for response in responses]


def make_tracker(text: str, intent: str, slots: dict | None = None, events: list | None = None,
                 sender: str = "test-conversation", asked: list[str] | tuple[str, ...] = ()) -> Tracker:
    """A tracker whose latest message is `text`, classified as `intent`, after the bot's
    responses `asked` (the question the message answers, if any)."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": [],
              "intent_ranking": [{"name": intent, "confidence": 0.99}]}
    user = {"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"}
    return Tracker(
        sender_id=sender,
        slots={"language": "en", "opened": True, **(slots or {})},
        latest_message=latest,
        events=events or [*bot_said(*asked), user],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(action, tracker: Tracker, domain: dict) -> tuple[list[dict], list[dict]]:
    """(messages dispatched, events returned)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher.messages, events


def responses(messages: list[dict]) -> list[str]:
    return [m.get("response") for m in messages]


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def record_verification(db, loan_ref: str, sender: str = "test-conversation") -> None:
    """Record on the server that `sender` has verified `loan_ref` just now, as a successful
    `action_verify_identity` would: actions decide from this record, never from slots alone."""
    with db.unit_of_work() as session:
        start_verified_session(session, conversation_id=sender, loan_reference=loan_ref, channel="rest",
                               now=utc_now())
