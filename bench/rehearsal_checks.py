"""The rehearsal's verdicts, from what the clients saw and what the tracker store (PostgreSQL `events`) holds.

Each check returns a `Verdict`: PASS/FAIL and the evidence. Their exact meaning is in docs/scale-out.md;
in short, for every conversation of the run:

- no_lost_turn: every turn a client saw answered is in the tracker (its user message, and every reply
  text the client got among the bot messages that follow it), in the order the client sent them;
- no_duplicated_event: no event is stored twice (same type, timestamp and content);
- none_answered_twice: the tracker holds no more user turns than the client made attempts, and no
  message id (a Telegram update, a REST/widget message) is stored on two user turns;
- every_borrower_continued: after each failure, every borrower had a turn answered that it started
  after the failure, and no borrower gave up (ran out of retries).
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import sqlalchemy as sa

from bench.rehearsal_clients import Attempt


@dataclass
class Verdict:
    name: str
    passed: bool
    detail: str
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.detail}"


@dataclass
class TrackedTurn:
    text: str
    message_id: str | None
    bot_texts: list[str]


def tracker_events(postgres_url: str, conversation_ids: Iterable[str]) -> dict[str, list[dict]]:
    """Every stored event of the conversations, in storage order (the `events` table Rasa writes)."""
    ids = sorted(set(conversation_ids))
    engine = sa.create_engine(postgres_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT sender_id, data FROM events WHERE sender_id = ANY(:ids) "
                                              "ORDER BY id"), {"ids": ids}).all()
    finally:
        engine.dispose()
    events: dict[str, list[dict]] = defaultdict(list)
    for sender_id, data in rows:
        events[sender_id].append(json.loads(data))
    return events


def bot_text(event: dict) -> str:
    return event.get("text") or ((event.get("data") or {}).get("custom") or {}).get("text") or ""


def is_agent_message(event: dict) -> bool:
    return bool((event.get("metadata") or {}).get("agent_name"))


def tracked_turns(events: Sequence[dict]) -> list[TrackedTurn]:
    """The user turns of a conversation, each with the assistant's texts that answered it."""
    turns: list[TrackedTurn] = []
    for event in events:
        if event.get("event") == "user":
            turns.append(TrackedTurn(event.get("text") or "", event.get("message_id"), []))
        elif event.get("event") == "bot" and turns and not is_agent_message(event):
            turns[-1].bot_texts.append(bot_text(event))
    return turns


def _normal(text: str) -> str:
    return " ".join(text.split())


def lost_turns(attempts: Sequence[Attempt], turns: Sequence[TrackedTurn]) -> list[str]:
    """Answered attempts missing from the tracker, matched in order (Telegram by its update's id).

    An attempt that failed may still be stored (its turn ran, the answer was lost on the way back),
    so an answered attempt is matched with the next stored turn of the same text that holds its replies.
    """
    problems, position = [], 0
    for attempt in (a for a in attempts if a.ok):
        found = next((index for index in range(position, len(turns))
                      if _same_turn(attempt, turns[index]) and _holds_replies(turns[index], attempt)), None)
        if found is None:
            problems.append(f"{attempt.conversation_id}: answered turn {attempt.text!r} "
                            f"(replies {[r[:40] for r in attempt.replies]}) not in the tracker")
            continue
        position = found + 1
    return problems


def _holds_replies(turn: TrackedTurn, attempt: Attempt) -> bool:
    stored = _normal(" ".join(turn.bot_texts))
    return all(_normal(reply) in stored for reply in attempt.replies if reply.strip())


def _same_turn(attempt: Attempt, turn: TrackedTurn) -> bool:
    if attempt.message_id is not None:
        return turn.message_id == attempt.message_id
    return _normal(turn.text) == _normal(attempt.text)


def duplicated_events(events: Sequence[dict]) -> list[str]:
    counts = Counter(json.dumps(event, sort_keys=True) for event in events)
    return [key[:120] for key, count in counts.items() if count > 1]


def check_no_lost_turn(attempts_by_conversation: dict[str, list[Attempt]],
                       events: dict[str, list[dict]]) -> Verdict:
    problems = [problem for conversation, attempts in attempts_by_conversation.items()
                for problem in lost_turns(attempts, tracked_turns(events.get(conversation, [])))]
    answered = sum(1 for attempts in attempts_by_conversation.values() for a in attempts if a.ok)
    return Verdict("no_lost_turn", not problems and answered > 0,
                   f"{answered} answered turns in {len(attempts_by_conversation)} conversations, "
                   f"{len(problems)} missing from the tracker", problems)


def check_no_duplicated_event(events: dict[str, list[dict]]) -> Verdict:
    problems = [f"{conversation}: {duplicate}" for conversation, stored in events.items()
                for duplicate in duplicated_events(stored)]
    total = sum(len(stored) for stored in events.values())
    return Verdict("no_duplicated_event", not problems and total > 0,
                   f"{total} stored events, {len(problems)} stored twice", problems)


def check_none_answered_twice(attempts_by_conversation: dict[str, list[Attempt]],
                              events: dict[str, list[dict]]) -> Verdict:
    problems = []
    for conversation, attempts in attempts_by_conversation.items():
        turns = tracked_turns(events.get(conversation, []))
        if len(turns) > len(attempts):
            problems.append(f"{conversation}: {len(turns)} user turns stored for {len(attempts)} attempts")
        ids = Counter(turn.message_id for turn in turns if turn.message_id)
        problems += [f"{conversation}: message {message_id} handled {count} times"
                     for message_id, count in ids.items() if count > 1]
    return Verdict("none_answered_twice", not problems,
                   f"{len(problems)} conversations with a message handled twice", problems)


def check_every_borrower_continued(attempts: Sequence[Attempt], failures: dict[str, float],
                                   gave_up: Sequence[int], borrowers: int) -> Verdict:
    problems = [f"borrower {b} gave up after its retries" for b in gave_up]
    for name, at in failures.items():
        answered_after = {a.borrower for a in attempts if a.ok and a.started > at}
        problems += [f"borrower {b}: no turn answered after {name}" for b in range(borrowers)
                     if b not in answered_after]
    retried = sum(1 for a in attempts if not a.ok)
    return Verdict("every_borrower_continued", not problems and bool(failures),
                   f"{borrowers} borrowers, {len(failures)} failures, {retried} failed attempts retried, "
                   f"{len(gave_up)} gave up", problems)


def recovery(attempts: Sequence[Attempt], at: float, until: float, borrowers: int) -> dict:
    """Figures of one failure at `at` (the next failure or the end at `until`): the attempts that failed
    in between, and seconds until every borrower had a turn answered that it started after `at`."""
    window = [a for a in attempts if at <= a.ended < until]
    failed = [a for a in window if not a.ok]
    first_ok: dict[int, float] = {}
    for attempt in sorted(window, key=lambda a: a.ended):
        if attempt.ok and attempt.started > at:
            first_ok.setdefault(attempt.borrower, attempt.ended)
    recovered = max(first_ok.values()) - at if len(first_ok) == borrowers else None
    return {"failed_attempts": len(failed),
            "error_kinds": dict(Counter(a.error for a in failed)),
            "trouble_replies": sum(1 for a in failed if a.trouble_reply),
            "answered_attempts": sum(1 for a in window if a.ok),
            "last_failure_s": round(max((a.ended for a in failed), default=at) - at, 1),
            "all_answered_again_s": None if recovered is None else round(recovered, 1)}
