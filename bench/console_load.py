"""Console load benchmark: `python -m bench.console_load` (make bench-console).

Builds a desk in a temporary directory: 20 agents and a supervisor, 200 waiting escalations (a third
verified, with loans and borrowers), and a Rasa tracker store (rasa_runtime's SQLTrackerStore on SQLite)
holding each conversation's handoff. Starts the real web app (`python -m channels.web`, uvicorn) in its
own process, with a stand-in for Rasa's tracker endpoint in this process, and prints:

1. p50/p95 latency of GET /console/api/queue (200 rows) and GET /console/api/escalations/{id};
2. the web app process's CPU seconds (user+system, from /proc) over `--seconds` (60) of
   a) 20 agents each holding an SSE stream (/console/api/events), and
   b) 20 agents polling /console/api/queue every 2 s (the console before live updates),
   while a borrower writes every 2 s in both phases (so the watcher has news to pass on).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import httpx
import uvicorn
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parent.parent
AGENTS = 20
ESCALATIONS = 200
PASSWORD = "bench-console-pass"
REQUESTS = 200


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stand_in_rasa() -> FastAPI:
    """Rasa's tracker endpoint for any conversation, with a short paused conversation."""
    app = FastAPI()
    now = time.time()

    @app.get("/conversations/{conversation}/tracker")
    def tracker(conversation: str) -> dict:
        return {"sender_id": conversation, "paused": True,
                "slots": {"language": "en", "verified": True, "hardship_temporary": True},
                "events": [
                    {"event": "user", "text": "I lost my job last month", "timestamp": now - 900},
                    {"event": "slot", "name": "hardship_cause", "value": "job_loss", "timestamp": now - 899},
                    {"event": "bot", "text": "I'm sorry to hear that.", "timestamp": now - 898},
                    {"event": "user", "text": "Can I talk to a person?", "timestamp": now - 600},
                    {"event": "pause", "timestamp": now - 599}]}

    return app


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def build_desk(var_dir: Path) -> list[int]:
    """Accounts, loans and escalations in the app database; handoffs in the tracker store."""
    from bot.accounts.models import Borrower, Loan
    from bot.handoff.accounts import create_account
    from bot.handoff.queue import EscalationQueue
    from bot.storage import Database
    from bot.storage.schema import migrate
    from rasa.shared.core.events import ConversationPaused, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa_runtime.tracker_store import SQLTrackerStore

    url = f"sqlite:///{var_dir / 'app.db'}"
    migrate(url)
    database = Database(url)
    rng = random.Random(14)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    ids = []
    with database.unit_of_work() as session:
        for n in range(AGENTS):
            create_account(session, f"agent{n:02d}", f"Agent {n}", "agent", PASSWORD)
        create_account(session, "boss", "Boss", "supervisor", PASSWORD)
        queue = EscalationQueue(session)
        for n in range(ESCALATIONS):
            verified = n % 3 == 0
            summary = {"verified": verified, "language": "zh" if n % 2 else "en",
                       "last_messages": [f"message {n} about my account"]}
            if verified:
                reference = f"HCF-{700000 + n}"
                session.add(Loan(reference=reference, currency="CNY", principal=Decimal("20000.00"),
                                 annual_rate=Decimal("0.156000"), contractual_instalment=Decimal("1200.00"),
                                 start_date=date(2025, 1, 5),
                                 borrower=Borrower(full_name=f"Borrower {n}", date_of_birth=date(1990, 1, 1))))
                summary.update(loan_ref=reference, arrears="2400.00", currency="CNY", monthly_income="6000",
                               monthly_costs="4000", hardship_cause="job_loss")
            escalation, _ = queue.open(conversation_id=f"web:{n:064x}", channel="socketio",
                                       reason=rng.choice(["request_human", "dispute_debt", "complaint"]),
                                       priority=rng.randint(1, 4), summary=summary, language=summary["language"],
                                       now=now - timedelta(minutes=rng.randint(0, 240)))
            ids.append(escalation.id)
    database.dispose()
    store = SQLTrackerStore(dialect="sqlite", db=str(var_dir / "tracker.db"))
    for n in range(ESCALATIONS):
        tracker = DialogueStateTracker.from_events(f"web:{n:064x}", [UserUttered("I need a person"),
                                                                     ConversationPaused()])
        asyncio.run(store.save(tracker))
    store.engine.dispose()
    return ids


def sign_in(client: httpx.Client, username: str) -> None:
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (200, 303), response.status_code


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   (n={len(ordered)})"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BorrowerChatter:
    """Writes a borrower message into the tracker store every 2 s, as Rasa would."""

    def __init__(self, var_dir: Path) -> None:
        import sqlalchemy as sa
        self.engine = sa.create_engine(f"sqlite:///{var_dir / 'tracker.db'}")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        import json

        import sqlalchemy as sa
        n = 0
        while not self.stop.wait(2.0):
            sender = f"web:{n % ESCALATIONS:064x}"
            data = {"event": "user", "timestamp": time.time(), "text": f"are you there? ({n})"}
            with self.engine.begin() as connection:
                connection.execute(sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) "
                                           "VALUES (:s, 'user', :t, :d)"),
                                   {"s": sender, "t": data["timestamp"], "d": json.dumps(data)})
            n += 1


def phase(pid: int, seconds: float, work) -> float:
    stop = threading.Event()
    threads = [threading.Thread(target=work, args=(n, stop), daemon=True) for n in range(AGENTS)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)  # everyone connected
    before = cpu_seconds(pid)
    time.sleep(seconds)
    used = cpu_seconds(pid) - before
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, serving(stand_in_rasa()) as rasa_url:
        var_dir = Path(tmp)
        started = time.time()
        ids = build_desk(var_dir)
        print(f"desk: {AGENTS} agents, {len(ids)} waiting escalations ({time.time() - started:.0f} s to build)")
        port = free_port()
        env = {**os.environ, "APP_VAR_DIR": str(var_dir), "RASA_URL": rasa_url, "WEB_PORT": str(port),
               "RECONCILE_INTERVAL_MINUTES": "0", "PURGE_INTERVAL_HOURS": "0", "APP_ENV": "development"}
        env.pop("DATABASE_URL", None)
        env.pop("TRACKER_STORE_URL", None)
        web = subprocess.Popen([sys.executable, "-m", "channels.web"], cwd=ROOT, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                if time.time() > deadline or web.poll() is not None:
                    raise SystemExit("the web app did not start")
                time.sleep(0.2)
            clients = []
            for n in range(AGENTS):
                client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
                sign_in(client, f"agent{n:02d}")
                clients.append(client)
            first = clients[0]
            assert len(first.get("/console/api/queue").json()["items"]) == ESCALATIONS
            timings = {"queue": [], "detail": []}
            for n in range(REQUESTS):
                t0 = time.perf_counter()
                first.get("/console/api/queue").raise_for_status()
                timings["queue"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                first.get(f"/console/api/escalations/{ids[n % len(ids)]}").raise_for_status()
                timings["detail"].append(time.perf_counter() - t0)
            print(f"GET /console/api/queue (200 waiting)     {percentiles(timings['queue'])}")
            print(f"GET /console/api/escalations/{{id}}        {percentiles(timings['detail'])}")

            chatter = BorrowerChatter(var_dir)
            chatter.thread.start()
            received = [0] * AGENTS

            def listen(n: int, stop: threading.Event) -> None:
                with clients[n].stream("GET", "/console/api/events", timeout=None) as response:
                    for line in response.iter_lines():
                        if line.startswith("event: message"):
                            received[n] += 1
                        if stop.is_set():
                            return

            def poll(n: int, stop: threading.Event) -> None:
                while not stop.is_set():
                    clients[n].get("/console/api/queue").raise_for_status()
                    stop.wait(2.0)

            sse_cpu = phase(web.pid, args.seconds, listen)
            poll_cpu = phase(web.pid, args.seconds, poll)
            chatter.stop.set()
            print(f"web app CPU over {args.seconds:.0f} s, {AGENTS} agents on SSE:              {sse_cpu:6.2f} s "
                  f"({sum(received)} message events delivered)")
            print(f"web app CPU over {args.seconds:.0f} s, {AGENTS} agents polling /api/queue / 2 s: {poll_cpu:6.2f} s")
        finally:
            web.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                web.wait(timeout=10)


if __name__ == "__main__":
    main()
