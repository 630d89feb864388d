"""What the action server receives of a conversation's history: a bounded part, enough for every reader.

Rasa 3.6 sends the whole tracker (every event of the session, as dicts) with every custom action
call: Rasa encodes it, the action server decodes it, rasa_sdk builds a `Tracker` of it. In a
400-turn conversation that is ~3,000 events per call, and it made a turn's cost grow with the
conversation's length (docs/PERFORMANCE.md, "Long conversations").

Our actions read `tracker.events` in five places (audited; `tests/unit/test_rasa_runtime_history.py`
checks each against the full history):

- `actions.common.offered_buttons` and `actions.understanding.last_bot_turn`: the events between
  the last two user messages;
- `actions.conversation.misreads_in_a_row`: user turns back from the latest, until one was not a
  misread or the session started; only whether the count reaches 2 or 3 matters
  (MISREADS_BEFORE_OFFER, MISREADS_BEFORE_HANDOFF), so 4 user turns decide it;
- `actions.handoff.borrower_messages`: the last 5 borrower messages that are not `/EXTERNAL_...`;
- `actions.understanding.said_in_session`: whether a bot event with a given `utter_action` exists
  after the last `session_started`, however far back.

So the events sent are: everything from the `RECENT_USER_TURNS`-th last borrower (non-external)
user message on, unchanged; and before that point only the last `session_started` event and, after
it, the newest bot event of each distinct `utter_action` (the answer `said_in_session` needs). Order
is kept. Slots, the latest message, the active loop and the latest action are sent in full as
before (they are not events). A conversation shorter than the bound is sent whole.
"""
from __future__ import annotations

from typing import Sequence

from rasa.shared.core.events import BotUttered, Event, SessionStarted, UserUttered

RECENT_USER_TURNS = 8     # > 5 (handoff summary) and > 4 (misreads): a margin, at constant cost
EXTERNAL_PREFIX = "/EXTERNAL"


def _is_borrower_message(event: Event) -> bool:
    return isinstance(event, UserUttered) and not str(event.text or "").startswith(EXTERNAL_PREFIX)


def recent_start(events: Sequence[Event], turns: int = RECENT_USER_TURNS) -> int:
    """Index of the `turns`-th last borrower message (0 when there are fewer)."""
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if _is_borrower_message(events[index]):
            seen += 1
            if seen == turns:
                return index
    return 0


def bounded_events(events: Sequence[Event], turns: int = RECENT_USER_TURNS) -> list[Event]:
    """The events an action call carries: the recent ones whole, the older ones summarised (module doc)."""
    start = recent_start(events, turns)
    if start == 0:
        return list(events)
    session_start = None
    for index in range(start - 1, -1, -1):
        if isinstance(events[index], SessionStarted):
            session_start = index
            break
    newest_bot: dict[object, int] = {}
    for index in range(session_start + 1 if session_start is not None else 0, start):
        event = events[index]
        if isinstance(event, BotUttered):
            newest_bot[(event.metadata or {}).get("utter_action")] = index
    kept = sorted(([session_start] if session_start is not None else []) + list(newest_bot.values()))
    return [events[index] for index in kept] + list(events[start:])
