"""Load generator: N simulated borrowers in parallel over Rasa's REST channel, whole conversations each.

Each simulated user loops: take the next conversation script, use a fresh sender id, send its turns
one after the other (each waits for the bot's answer), and record each turn's latency and outcome.
Turns finishing during the warm-up are discarded; the measured window follows it. When the window
closes, users finish the turn in flight (never cancelled: an abandoned request would keep the server
busy into the next level) and stop.

An error is: a non-200 answer, an exception (connection, timeout, bad JSON), an empty reply where a
reply is expected (no message with text), or a reply that lacks the turn's expected marker (e.g. the
agreement reference at the end of ours: catches a conversation that was handed to a person).
"""
from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Sequence

import aiohttp


@dataclass(frozen=True)
class Turn:
    text: str
    expect_reply: bool = True
    expect_marker: str | None = None   # a substring the joined reply must contain


@dataclass(frozen=True)
class Conversation:
    name: str
    turns: tuple[Turn, ...]
    tag: str = ""                      # e.g. the loan reference it uses


# Hands out the next conversation for a user (may await, e.g. to recycle a loan in the database).
ConversationSource = Callable[[int], Awaitable[Conversation]]


@dataclass
class TurnRecord:
    started: float
    latency_s: float
    ok: bool
    error: str | None = None
    started_in_window: bool = True     # counts for latency and errors
    ended_in_window: bool = True       # counts for throughput
    label: str = ""                    # which turn of the script ("3:I had big medical bills")


@dataclass
class LevelResult:
    users: int
    duration_s: float
    turns: list[TurnRecord] = field(default_factory=list)
    conversations_completed: int = 0
    conversations_aborted: int = 0
    answered: int = 0                  # every turn answered, warm-up included (the CPU window's divisor)

    def summary(self) -> dict:
        """Throughput: successful turns that ended inside the window / its length. Latency and errors:
        turns that started inside the window (the last ones may end a little after it closes)."""
        started = [t for t in self.turns if t.started_in_window]
        latencies_ms = [t.latency_s * 1000 for t in started if t.ok]
        completed_ok = sum(1 for t in self.turns if t.ended_in_window and t.ok)
        errors = Counter(t.error for t in started if not t.ok)
        stats = latency_stats(latencies_ms)
        by_turn: dict[str, list[float]] = {}
        for t in started:
            if t.ok and t.label:
                by_turn.setdefault(t.label, []).append(t.latency_s * 1000)
        per_turn = {label: {"n": len(v), "p50_ms": round(percentile(v, 50), 1)} for label, v in sorted(by_turn.items())}
        return {
            "users": self.users,
            "duration_s": round(self.duration_s, 2),
            "turns": len(started),
            "ok_turns_in_window": completed_ok,
            "turns_per_s": round(completed_ok / self.duration_s, 3) if self.duration_s else 0.0,
            "errors": sum(errors.values()),
            "error_kinds": dict(errors),
            "error_rate": round(sum(errors.values()) / len(started), 4) if started else 0.0,
            "conversations_completed": self.conversations_completed,
            "conversations_aborted": self.conversations_aborted,
            "answered_incl_warmup": self.answered,
            **stats,
            "per_turn": per_turn,
        }


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks (numpy's default)."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0..100")
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_stats(latencies_ms: Sequence[float]) -> dict:
    def r(value):
        return None if value is None else round(value, 1)
    return {
        "p50_ms": r(percentile(latencies_ms, 50)),
        "p95_ms": r(percentile(latencies_ms, 95)),
        "p99_ms": r(percentile(latencies_ms, 99)),
        "mean_ms": r(sum(latencies_ms) / len(latencies_ms)) if latencies_ms else None,
        "max_ms": r(max(latencies_ms)) if latencies_ms else None,
    }


def reply_texts(payload) -> list[str]:
    """The text of each bot message in a REST channel answer (a JSON list of messages)."""
    if not isinstance(payload, list):
        raise ValueError(f"REST channel answered {type(payload).__name__}, not a list")
    return [m.get("text") or "" for m in payload if isinstance(m, dict)]


def judge(status: int, payload, turn: Turn) -> str | None:
    """The error kind of one turn's answer, or None when it is acceptable."""
    if status != 200:
        return f"http_{status}"
    texts = reply_texts(payload)
    if turn.expect_reply and not any(t.strip() for t in texts):
        return "empty_reply"
    if turn.expect_marker and turn.expect_marker not in "\n".join(texts):
        return "unexpected_reply"
    return None


def _label(conversation: Conversation, number: int, turn: Turn) -> str:
    """A turn's name in the per-turn breakdown, the same for every loan: "ours#2:<loan> 1988-04-12"."""
    text = turn.text.replace(conversation.tag, "<loan>") if conversation.tag else turn.text
    return f"{conversation.name}#{number}:{text}"


async def _send(session: aiohttp.ClientSession, url: str, sender: str, turn: Turn) -> tuple[float, str | None]:
    started = time.perf_counter()
    try:
        async with session.post(url, json={"sender": sender, "message": turn.text}) as response:
            status = response.status
            payload = await response.json(content_type=None) if status == 200 else None
        error = judge(status, payload, turn)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is a measured error
        error = f"exception_{type(exc).__name__}"
    return time.perf_counter() - started, error


async def run_level(base_url: str, users: int, duration_s: float, warmup_s: float, next_conversation: ConversationSource,
                    sender_prefix: str = "bench", request_timeout_s: float = 120.0,
                    max_turns: int | None = None) -> LevelResult:
    """Run `users` simulated users for warm-up + `duration_s`; the result holds the measured turns only.

    With `max_turns`, the window closes early once that many turns have ended inside it
    (`duration_s` then is a cap, and the result's duration is the window's real length).
    """
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    result = LevelResult(users=users, duration_s=duration_s)
    loop_start = time.perf_counter()
    measure_from = loop_start + warmup_s
    measure_until = measure_from + duration_s
    ended_in_window = 0

    async def user(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal measure_until, ended_in_window
        while time.perf_counter() < measure_until:
            conversation = await next_conversation(index)
            sender = f"{sender_prefix}-{uuid.uuid4().hex}"
            finished = True
            for number, turn in enumerate(conversation.turns, start=1):
                if time.perf_counter() >= measure_until:
                    finished = False
                    break
                started = time.perf_counter()
                latency, error = await _send(session, url, sender, turn)
                ended = started + latency
                result.answered += 1
                if ended >= measure_from:
                    result.turns.append(TurnRecord(
                        started, latency, error is None, error,
                        started_in_window=measure_from <= started < measure_until,
                        ended_in_window=ended < measure_until,
                        label=_label(conversation, number, turn)))
                    if ended < measure_until:
                        ended_in_window += 1
                        if max_turns is not None and ended_in_window >= max_turns:
                            measure_until = ended + 1e-9   # close the window now
                if error is not None:
                    finished = False     # the rest of this conversation would make no sense
                    if ended >= measure_from:
                        result.conversations_aborted += 1
                    await asyncio.sleep(0.2)  # a failing server is not hammered in a tight loop
                    break
            if finished and measure_from <= time.perf_counter() < measure_until:
                result.conversations_completed += 1

    timeout = aiohttp.ClientTimeout(total=request_timeout_s)
    connector = aiohttp.TCPConnector(limit=users + 4, force_close=False)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        # Stagger the start a little so that N users do not all send "hi" in the same millisecond.
        tasks = []
        for i in range(users):
            tasks.append(asyncio.create_task(user(i, session)))
            await asyncio.sleep(min(0.02, warmup_s / max(users, 1)))
        await asyncio.gather(*tasks)
    result.duration_s = max(0.0, measure_until - measure_from)
    return result


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours / theirs, rounded; None when either is missing or the denominator is zero."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 3)
