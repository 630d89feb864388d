"""`python -m bench.rehearsal`: the scale-out failure rehearsal (`make scale-test`, docs/scale-out.md).

Starts the scaled-out deployment (bench/rehearsal_topology.py: nginx, two Rasa processes, two action
servers, the web app, on PostgreSQL and Redis), puts simulated borrowers on it over REST, the widget's
socket.io and Telegram (bench/rehearsal_clients.py), and while they talk:

1. SIGKILLs one Rasa process and one action server, with a Telegram update in processing on that
   Rasa process; an agent's message goes to each widget borrower whose socket the surviving process
   holds; the two processes are started again; agent messages go to every widget borrower;
2. restarts PostgreSQL (`pg_ctlcluster <version> main restart`).

Then it checks the tracker store (bench/rehearsal_checks.py), prints the figures and a PASS/FAIL per
check, and exits 1 on any FAIL.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
warnings.filterwarnings("ignore", category=DeprecationWarning)  # third-party import noise, not ours
logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" on every close

import aiohttp  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.rehearsal_checks import (Verdict, check_every_borrower_continued, check_no_duplicated_event,  # noqa: E402
                                    check_no_lost_turn, check_none_answered_twice, recovery, tracked_turns,
                                    tracker_events)
from bench.rehearsal_clients import (TELEGRAM_SECRET, TELEGRAM_TOKEN, Attempt, Client, RestClient,  # noqa: E402
                                     TelegramClient, WidgetClient)
from bench.load import Turn  # noqa: E402
from bench.rehearsal_topology import RASA_PROCESSES, Topology  # noqa: E402
from bench.run import LoanPool  # noqa: E402
from bench.seed import seed_bench_loans  # noqa: E402
from bot.storage import Database  # noqa: E402
from channels.console.rasa_api import RasaConversations  # noqa: E402
from tests.telegram.fake_bot_api import FakeBotApi  # noqa: E402

CHANNELS = ("rest", "socketio", "telegram")
RETRY_DELAY_S = 1.0
MAX_ATTEMPTS_PER_TURN = 40
AGENT = "Ada"
DELIVERY_WAIT_S = 20
# nginx takes a restarted upstream back up to `fail_timeout` (deploy/nginx/rehearsal.conf.template: 5 s)
# after its last failed connection; a widget socket that failed over to the surviving process is then
# moved back (its engine.io session unknown there: the client reconnects). The database restart waits
# until that has happened, so that each failure's window holds only what that failure caused.
NGINX_FAIL_TIMEOUT_S = 5.0
SETTLE_LIMIT_S = 30.0
LOANS_PER_BORROWER = 4


@dataclass
class Plan:
    borrowers: int = 30
    kill_at: float = 15.0          # seconds of load before the kill
    down_for: float = 3.0          # seconds the killed processes stay down before their restart starts
    postgres_after: float = 10.0   # seconds of load after the restart, before PostgreSQL restarts
    tail: float = 20.0             # seconds of load after PostgreSQL restarts
    restart_postgres: bool = True


@dataclass
class Run:
    """What happened: every attempt, when each failure struck, and what the probes saw."""

    attempts: list[Attempt] = field(default_factory=list)
    gave_up: list[int] = field(default_factory=list)
    completed: int = 0
    start_failures: int = 0        # a new conversation could not start (loan pool or socket connect failed)
    failures: dict[str, float] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0
    restart_s: dict[str, float] = field(default_factory=dict)
    postgres_restart_s: float | None = None
    agent_messages: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # phase -> (conv, fragment)
    agent_delivered: dict[str, list[int]] = field(default_factory=dict)
    survivors: int = 0
    probe: dict = field(default_factory=dict)
    pids_around_postgres: tuple[dict, dict] | None = None


def postgres_version() -> str:
    return sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: float(v))[-1]


def restart_postgres() -> float:
    """`pg_ctlcluster <version> main restart` (scripts/integration_services.sh's cluster); its seconds."""
    started = time.perf_counter()
    subprocess.run(["pg_ctlcluster", postgres_version(), "main", "restart"], check=True, capture_output=True)
    return time.perf_counter() - started


def fresh_database(postgres_url: str, name: str) -> str:
    """An empty database of its own on the test server (never another run's or another test's)."""
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return str(sa.engine.make_url(postgres_url).set(database=name).render_as_string(hide_password=False))


async def borrower(client: Client, pool: LoanPool, stop: asyncio.Event, run: Run) -> None:
    """One borrower: conversation after conversation, each failed turn sent again until answered."""
    while not stop.is_set():
        try:
            conversation = await pool.next(client.borrower)
            await client.new_conversation()
        except Exception:  # noqa: BLE001 - the database or the socket is down: try again shortly
            run.start_failures += 1
            await asyncio.sleep(RETRY_DELAY_S)
            continue
        for turn in conversation.turns:
            if stop.is_set():
                return
            for number in range(MAX_ATTEMPTS_PER_TURN):
                # A turn sent again is answered by any reply that is not a "send it again": a failed
                # first try may have done its work in the app database (the identity verified) although
                # the conversation was not saved, and then the answer differs (no second arrears statement).
                attempt = await client.send(turn if number == 0 else Turn(turn.text, turn.expect_reply))
                run.attempts.append(attempt)
                if attempt.ok:
                    break
                await asyncio.sleep(RETRY_DELAY_S)
            else:
                run.gave_up.append(client.borrower)
                return
        run.completed += 1


async def surviving_sockets(widgets: list[WidgetClient], kill: float, wait_s: float = 10.0) -> list[WidgetClient]:
    """The widget borrowers whose socket has not dropped since the kill (so it is held by the surviving
    process), connected now. A borrower between two conversations has no socket for a moment: wait up to
    `wait_s` for at least one (with few borrowers, the only one on the surviving process may be that one)."""
    deadline = time.time() + wait_s
    while True:
        survivors = [w for w in widgets if w.sio is not None and w.ready.is_set()
                     and not any(t >= kill for t in w.disconnects)]
        if survivors or time.time() > deadline:
            return survivors
        await asyncio.sleep(0.2)


async def everyone_answered_since(run: Run, borrowers: int, since: float) -> None:
    """Wait until `since`, then until every borrower had a turn answered that it started after it (at most
    SETTLE_LIMIT_S: a borrower still stuck then shows in the checks)."""
    await asyncio.sleep(max(0.0, since - time.time()))
    deadline = time.time() + SETTLE_LIMIT_S
    while time.time() < deadline:
        if len({a.borrower for a in run.attempts if a.ok and a.started >= since}) >= borrowers:
            return
        await asyncio.sleep(0.2)


async def send_agent_messages(topology: Topology, clients: list[WidgetClient], phase: str, run: Run) -> None:
    """An agent's message to each client's conversation through the console's path (Rasa's API via nginx),
    then wait until each reached its socket."""
    conversations = RasaConversations(topology.url, topology.token)
    sent: list[tuple[WidgetClient, str]] = []
    for client in clients:
        client.awaiting_agent = True  # the borrower stays in this conversation until the message is in
    try:
        for client in clients:
            fragment = f"note {uuid.uuid4().hex[:8]}"
            try:
                await asyncio.to_thread(conversations.send_as_agent, client.conversation_id, AGENT,
                                        f"Agent {fragment} for you", "en")
            except Exception:  # noqa: BLE001 - counted as not delivered
                pass
            sent.append((client, fragment))
    finally:
        conversations.close()
    deadline = time.time() + DELIVERY_WAIT_S
    while time.time() < deadline and any(client.received(fragment) < 1 for client, fragment in sent):
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # a second copy would come right behind the first
    run.agent_messages[phase] = [(client.conversation_id, fragment) for client, fragment in sent]
    run.agent_delivered[phase] = [client.received(fragment) for client, fragment in sent]
    for client in clients:
        client.awaiting_agent = False


def update_key(update: dict) -> str:
    """Where channels/telegram/dedup.py's RedisUpdateLog keeps an update's claim."""
    return f"telegram:update:{TELEGRAM_TOKEN.split(':')[0]}:{update['update_id']}"


async def telegram_probe(topology: Topology, session: aiohttp.ClientSession, bot_api: FakeBotApi,
                         redis_url: str) -> dict:
    """Deliver an update straight to rasa_a and return once rasa_a has claimed it (its turn is running):
    the caller kills rasa_a then. If the turn finishes before the claim is seen, another update is tried."""
    import redis.asyncio as redis_asyncio

    redis = redis_asyncio.from_url(redis_url)
    client = TelegramClient(-1, topology.url, session, bot_api)
    try:
        for _ in range(5):
            await client.new_conversation()
            update = client.update_for("hi")
            direct = asyncio.ensure_future(client.deliver(
                update, url=f"http://127.0.0.1:{topology.ports['rasa_a']}/webhooks/telegram/webhook"))
            while not direct.done():
                claim = await redis.get(update_key(update))
                if claim is not None and claim.decode().startswith("in-progress"):
                    return {"client": client, "update": update, "direct": direct, "claim": claim.decode()}
                await asyncio.sleep(0.01)
    finally:
        await redis.close()
    return {"client": client, "update": update, "direct": direct, "claim": None}


async def finish_probe(probe: dict) -> dict:
    """Redeliver the probe's update through nginx (as Telegram does) until it is answered 200."""
    client: TelegramClient = probe["client"]
    update = probe["update"]
    first = await probe["direct"]
    deliveries = [first]
    while not deliveries[-1].ok and len(deliveries) < MAX_ATTEMPTS_PER_TURN:
        await asyncio.sleep(RETRY_DELAY_S)
        deliveries.append(await client.deliver(update))
    return {"conversation_id": client.conversation_id, "message_id": f"telegram:{update['update_id']}",
            "first_delivery": first.error or "200", "claim_at_kill": probe["claim"],
            "deliveries": len(deliveries), "answered": deliveries[-1].ok and bool(client.sent()),
            "replies": client.sent()}


async def rehearse(topology: Topology, postgres_url: str, redis_url: str, bot_api: FakeBotApi, plan: Plan) -> Run:
    run = Run()
    database = Database(postgres_url)
    with database.unit_of_work() as session:
        references = seed_bench_loans(session, date.today(), plan.borrowers * LOANS_PER_BORROWER)
    # Each borrower has loans of its own, reused (cleared first) only after its own earlier conversations:
    # a borrower held up by a failure must not find its loan cleared or renegotiated meanwhile by
    # another (its offers gone, or anti-stalling handing it to a person).
    pools = [LoanPool(database, references[index * LOANS_PER_BORROWER:(index + 1) * LOANS_PER_BORROWER])
             for index in range(plan.borrowers)]
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=plan.borrowers + 8)
    async with aiohttp.ClientSession(connector=connector) as session:
        clients: list[Client] = []
        for index in range(plan.borrowers):
            channel = CHANNELS[index % len(CHANNELS)]
            clients.append(RestClient(index, topology.url, session) if channel == "rest"
                           else WidgetClient(index, topology.url) if channel == "socketio"
                           else TelegramClient(index, topology.url, session, bot_api))
        widgets = [client for client in clients if isinstance(client, WidgetClient)]
        for number, widget in enumerate(widgets):
            await widget.settle_on(topology.ports[RASA_PROCESSES[number % 2]])
        run.started = time.time()
        tasks = []
        for client in clients:
            tasks.append(asyncio.create_task(borrower(client, pools[client.borrower], stop, run)))
            await asyncio.sleep(0.05)
        try:
            await asyncio.sleep(plan.kill_at)
            probe = await telegram_probe(topology, session, bot_api, redis_url)
            run.failures["kill"] = time.time()
            await asyncio.to_thread(topology.kill, "rasa_a")
            await asyncio.to_thread(topology.kill, "actions_x")
            probe_done = asyncio.create_task(finish_probe(probe))
            await asyncio.sleep(2.0)  # sockets held by the killed process notice they are gone
            survivors = await surviving_sockets(widgets, run.failures["kill"])
            run.survivors = len(survivors)
            await send_agent_messages(topology, survivors, "surviving_process", run)
            await asyncio.sleep(max(0.0, plan.down_for - (time.time() - run.failures["kill"])))
            actions_restart = asyncio.to_thread(topology.restart, "actions_x")
            rasa_restart = asyncio.to_thread(topology.restart, "rasa_a")
            run.restart_s["actions_x"], run.restart_s["rasa_a"] = await asyncio.gather(actions_restart, rasa_restart)
            run.probe = await probe_done
            await send_agent_messages(topology, [w for w in widgets if w.ready.is_set()], "after_restart", run)
            await everyone_answered_since(run, len(clients), time.time() + NGINX_FAIL_TIMEOUT_S)
            await asyncio.sleep(plan.postgres_after)
            if plan.restart_postgres:
                before = topology.pids()
                run.failures["postgres_restart"] = time.time()
                run.postgres_restart_s = await asyncio.to_thread(restart_postgres)
                await asyncio.sleep(plan.tail)
                run.pids_around_postgres = (before, topology.pids())
            else:
                await asyncio.sleep(plan.tail)
        finally:
            stop.set()
            done, pending = await asyncio.wait(tasks, timeout=TURN_GRACE_S)
            for task in pending:
                task.cancel()
            run.ended = time.time()
            for client in clients:
                await client.close()
    database.dispose()
    return run


TURN_GRACE_S = 90


def agent_verdict(run: Run) -> Verdict:
    """Every agent message reached its widget. A second copy (the replay on resuming racing the live
    message) is counted and shown, not failed: the borrower saw the message."""
    problems, twice = [], 0
    for phase, messages in run.agent_messages.items():
        for (conversation, fragment), count in zip(messages, run.agent_delivered[phase]):
            if count == 0:
                problems.append(f"{phase}: {conversation} never got agent message {fragment!r}")
            twice += count > 1
    survivors = len(run.agent_messages.get("surviving_process", []))
    total = sum(len(messages) for messages in run.agent_messages.values())
    return Verdict("agent_messages_reached_widgets", not problems and survivors > 0,
                   f"{total - len(problems)}/{total} delivered ({survivors} to sockets held by the surviving "
                   f"process while the other was down, the rest after its restart); {twice} arrived twice",
                   problems)


def probe_verdict(run: Run, events: dict[str, list[dict]]) -> Verdict:
    probe = run.probe
    if not probe:
        return Verdict("telegram_killed_update_answered", False, "the probe did not run")
    stored = [turn for turn in tracked_turns(events.get(probe["conversation_id"], []))
              if turn.message_id == probe["message_id"]]
    killed_mid_turn = probe["first_delivery"] != "200" and bool(probe["claim_at_kill"])
    passed = killed_mid_turn and probe["answered"] and len(stored) == 1
    return Verdict("telegram_killed_update_answered", passed,
                   f"killed while its claim was {probe['claim_at_kill']!r}, first delivery {probe['first_delivery']}; "
                   f"answered after {probe['deliveries']} deliveries; stored {len(stored)} time(s)")


def postgres_verdicts(run: Run, attempts: list[Attempt]) -> list[Verdict]:
    at = run.failures.get("postgres_restart")
    if at is None:
        return []
    window = [a for a in attempts if a.ended >= at and not a.ok]
    silent = [a for a in window if not a.trouble_reply]
    clear = Verdict("postgres_outage_answered_clearly", not silent,
                    f"{len(window)} turns failed while PostgreSQL restarted; {len(window) - len(silent)} got the "
                    f"'technical problem, send it again in a minute' answer, {len(silent)} did not",
                    [f"{a.channel} {a.conversation_id} {a.text!r}: {a.error}" for a in silent])
    before, after = run.pids_around_postgres or ({}, {})
    same = {name: before.get(name) == after.get(name) for name in before}
    answered_after = {a.borrower for a in attempts if a.ok and a.started > at}
    problems = [f"{name} was restarted" for name, kept in same.items() if not kept]
    recovered = Verdict("postgres_recovered_by_itself", not problems and len(answered_after) > 0,
                        f"no process restarted ({len(same)} kept their pids); {len(answered_after)} borrowers "
                        "answered after the restart", problems)
    return [clear, recovered]


def verdicts(run: Run, postgres_url: str, borrowers: int) -> tuple[list[Verdict], dict]:
    attempts = [a for a in run.attempts if a.borrower >= 0]
    by_conversation: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_conversation.setdefault(attempt.conversation_id, []).append(attempt)
    conversation_ids = list(by_conversation) + ([run.probe["conversation_id"]] if run.probe else [])
    events = tracker_events(postgres_url, conversation_ids)
    results = [
        check_no_lost_turn(by_conversation, events),
        check_no_duplicated_event(events),
        check_none_answered_twice(by_conversation, events),
        check_every_borrower_continued(attempts, run.failures, run.gave_up, borrowers),
        agent_verdict(run),
        probe_verdict(run, events),
        *postgres_verdicts(run, attempts),
    ]
    figures = {}
    moments = sorted(run.failures.items(), key=lambda item: item[1]) + [("end", run.ended)]
    for (name, at), (_next, until) in zip(moments, moments[1:]):
        figures[name] = {"at_s": round(at - run.started, 1), **recovery(attempts, at, until, borrowers)}
    return results, figures


def render(run: Run, plan: Plan, results: list[Verdict], figures: dict) -> str:
    attempts = [a for a in run.attempts if a.borrower >= 0]
    answered = sum(1 for a in attempts if a.ok)
    per_channel = {channel: sum(1 for a in attempts if a.ok and a.channel == channel) for channel in CHANNELS}
    lines = [
        f"scale-out rehearsal: {plan.borrowers} borrowers ({', '.join(f'{sum(1 for i in range(plan.borrowers) if CHANNELS[i % 3] == c)} {c}' for c in CHANNELS)}), "
        "nginx -> 2 Rasa processes + 2 action servers, PostgreSQL (app + tracker), Redis (locks, socket.io, Telegram dedup)",
        f"load: {run.ended - run.started:.1f} s; turns served {answered} "
        f"({', '.join(f'{c} {n}' for c, n in per_channel.items())}); attempts {len(attempts)}; "
        f"conversations completed {run.completed}; conversation starts that failed and were retried "
        f"{run.start_failures}",
    ]
    kill = figures.get("kill")
    if kill:
        lines.append(f"failure 1 at +{kill['at_s']} s: SIGKILL rasa_a + actions_x; restarted: "
                     f"rasa_a ready after {run.restart_s.get('rasa_a', 0):.1f} s, actions_x after "
                     f"{run.restart_s.get('actions_x', 0):.1f} s")
        lines.append(_window_line(kill))
    pg = figures.get("postgres_restart")
    if pg:
        lines.append(f"failure 2 at +{pg['at_s']} s: pg_ctlcluster {postgres_version()} main restart "
                     f"(took {run.postgres_restart_s:.1f} s)")
        lines.append(_window_line(pg))
    lines.append("checks:")
    for verdict in results:
        lines.append("  " + verdict.line())
        for problem in verdict.problems[:5]:
            lines.append(f"      - {problem}")
        if len(verdict.problems) > 5:
            lines.append(f"      ... {len(verdict.problems) - 5} more")
    return "\n".join(lines)


def _window_line(figures: dict) -> str:
    again = figures["all_answered_again_s"]
    return (f"  failed turns in the window: {figures['failed_attempts']} {figures['error_kinds'] or ''} "
            f"(trouble answers {figures['trouble_replies']}); answered turns {figures['answered_attempts']}; "
            f"last failure +{figures['last_failure_s']} s; time to recover (every borrower answered again): "
            + (f"{again} s" if again is not None else "never"))


@dataclass
class Report:
    verdicts: list[Verdict]
    figures: dict
    text: str

    @property
    def passed(self) -> bool:
        return all(verdict.passed for verdict in self.verdicts)


async def run_rehearsal(plan: Plan, postgres_url: str, redis_url: str, var_dir: Path) -> Report:
    """Start the deployment in a database of its own, rehearse, stop everything, judge."""
    bot_api = await FakeBotApi().start()
    database_url = fresh_database(postgres_url, "debt_rehearsal")
    topology = Topology(var_dir, database_url, redis_url, {
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": bot_api.base_url})
    try:
        print(f"starting nginx, 2 Rasa, 2 action servers and the web app (logs in {var_dir}) ...", flush=True)
        started = time.perf_counter()
        await asyncio.to_thread(topology.start)
        print(f"up in {time.perf_counter() - started:.0f} s; nginx on {topology.url} (Rasa), "
              f"{topology.web_url} (web app)", flush=True)
        run = await rehearse(topology, database_url, redis_url, bot_api, plan)
    finally:
        await asyncio.to_thread(topology.stop)
        await bot_api.stop()
    with open(var_dir / "attempts.jsonl", "w") as out:  # every attempt, for reading a FAIL
        for attempt in run.attempts:
            out.write(json.dumps(asdict(attempt)) + "\n")
    results, figures = verdicts(run, database_url, plan.borrowers)
    figures["restart_s"], figures["postgres_restart_s"] = run.restart_s, run.postgres_restart_s
    return Report(results, figures, render(run, plan, results, figures))


async def main_async(plan: Plan, postgres_url: str, redis_url: str, var_dir: Path, json_out: Path | None) -> int:
    report = await run_rehearsal(plan, postgres_url, redis_url, var_dir)
    print(report.text, flush=True)
    if json_out:
        json_out.write_text(json.dumps({"plan": asdict(plan), "figures": report.figures,
                                        "verdicts": [asdict(v) for v in report.verdicts]}, indent=2))
    return 0 if report.passed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=Plan.borrowers)
    parser.add_argument("--kill-at", type=float, default=Plan.kill_at)
    parser.add_argument("--down-for", type=float, default=Plan.down_for)
    parser.add_argument("--postgres-after", type=float, default=Plan.postgres_after)
    parser.add_argument("--tail", type=float, default=Plan.tail)
    parser.add_argument("--no-postgres-restart", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures and verdicts here")
    parser.add_argument("--var-dir", type=Path, help="logs and configuration (default: a new temporary directory)")
    args = parser.parse_args(argv)
    postgres_url, redis_url = os.environ.get("TEST_POSTGRES_URL"), os.environ.get("TEST_REDIS_URL")
    if not postgres_url or not redis_url:
        print('TEST_POSTGRES_URL / TEST_REDIS_URL not set: eval "$(bash scripts/integration_services.sh)"',
              file=sys.stderr)
        return 2
    plan = Plan(args.borrowers, args.kill_at, args.down_for, args.postgres_after, args.tail,
                not args.no_postgres_restart)
    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="scale-rehearsal-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(main_async(plan, postgres_url, redis_url, var_dir, args.json))


if __name__ == "__main__":
    sys.exit(main())
