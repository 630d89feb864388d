"""Analytics benchmark: `python -m bench.analytics_load --events 1000000` (make bench-analytics).

Generates a tracker store of N event rows (conversations of 10 events: session start, language slot,
five borrower messages with Rasa-like parse data, bot actions; a fifth come back a few days later) spread
over 120 days, and the application rows the KPIs join (verified sessions, escalations, promises,
agreements on offers, opt-outs, follow-up attempts, a daily days-past-due snapshot for 2,000 loans), all
by bulk inserts into fresh SQLite files. Then, through the console's real HTTP routes (TestClient, a
signed-in supervisor), it times the one-time first catch-up of the conversation facts, then GET
/console/api/analytics for the default page (last 28 days by day) and for 13 weeks by week: cold (new
process state, nothing cached) and cached (same range again), the default page again after 1,000 new
tracker events (catch-up + report), and the first chart's SVG. Target: under 1 s cold.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

EVENTS_PER_CONVERSATION = 10
DAYS = 120
TODAY = date(2026, 11, 30)
LOANS = 2000
PASSWORD = "bench-pass-1"
NEW_EVENTS = 1000  # tracker events added between two page loads (100 conversations)


def _user_event(text: str, intent: str, t: float, channel: str) -> str:
    return json.dumps({
        "event": "user", "timestamp": t, "metadata": {}, "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": 0.97},
                       "entities": [], "text": text, "message_id": "m" * 32, "metadata": {},
                       "intent_ranking": [{"name": intent, "confidence": 0.97},
                                          {"name": "affirm", "confidence": 0.02},
                                          {"name": "deny", "confidence": 0.01}]},
        "input_channel": channel, "message_id": "m" * 32})


def write_tracker(path: Path, events: int, rng: random.Random) -> list[tuple[str, float, str]]:
    """The events table as Rasa's SQLTrackerStore makes it; returns (conversation, start, channel)."""
    connection = sqlite3.connect(path)
    connection.executescript("""
        CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
                             timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT);
        CREATE INDEX ix_events_sender_id ON events (sender_id);""")
    end = datetime.combine(TODAY + timedelta(days=1), datetime.min.time()).replace(tzinfo=timezone.utc).timestamp()
    conversations = []
    rows = []
    for index in range(events // EVENTS_PER_CONVERSATION):
        channel = "telegram" if index % 3 else "socketio"
        sender = f"telegram:{index}" if channel == "telegram" else f"{index:032x}"
        language = "zh" if index % 4 == 0 else "en"
        t = end - rng.random() * DAYS * 86400
        conversations.append((sender, t, channel))
        back = t + rng.uniform(1, 6) * 86400 if index % 5 == 0 else None
        rows.append((sender, "action", t, None, "action_session_start", json.dumps({"event": "action", "timestamp": t,
                                                                                    "name": "action_session_start"})))
        rows.append((sender, "session_started", t, None, None, json.dumps({"event": "session_started", "timestamp": t})))
        rows.append((sender, "slot", t + 1, None, "language",
                     json.dumps({"event": "slot", "timestamp": t + 1, "name": "language", "value": language})))
        for step in range(EVENTS_PER_CONVERSATION - 3 - (1 if back else 0)):
            moment = t + 2 + step * 20
            if step % 2 == 0:
                rows.append((sender, "user", moment, "inform", None,
                             _user_event("I can pay 50 on Friday", "inform", moment, channel)))
            else:
                rows.append((sender, "bot", moment, None, None,
                             json.dumps({"event": "bot", "timestamp": moment, "text": "Thank you.", "data": {}})))
        if back:
            rows.append((sender, "session_started", back, None, None,
                         json.dumps({"event": "session_started", "timestamp": back})))
        if len(rows) >= 50000:
            connection.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, "
                                   "data) VALUES (?, ?, ?, ?, ?, ?)", rows)
            rows.clear()
    connection.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                           "VALUES (?, ?, ?, ?, ?, ?)", rows)
    connection.commit()
    connection.close()
    return conversations


def write_books(path: Path, conversations: list[tuple[str, float, str]], rng: random.Random) -> None:
    """The application rows the KPIs join, by plain bulk inserts (migrated schema already there)."""
    c = sqlite3.connect(path)
    iso = lambda t: datetime.fromtimestamp(t, timezone.utc).replace(tzinfo=None).isoformat(sep=" ")  # noqa: E731
    verified, escalations, promises, offers, agreements, opt_outs = [], [], [], [], [], []
    for index, (sender, t, channel) in enumerate(conversations):
        if rng.random() < 0.6:
            verified.append((sender, "HCF-1", channel, iso(t + 60), iso(t + 600)))
            if rng.random() < 0.3:
                status = rng.choice(["open", "kept", "kept", "broken", "partly_kept"])
                promises.append((sender, "HCF-1", 5000, (TODAY - timedelta(days=3)).isoformat(), status,
                                 iso(t + 300), 0, None if status == "open" else iso(t + 5 * 86400)))
            if rng.random() < 0.1:
                terms = json.dumps({"waived_fees": "12.50", "waived_interest": "30.00"})
                authority = rng.choice(["bot", "bot", "agent", "supervisor"])
                offers.append((len(offers) + 1, sender, "HCF-1", "fee_waiver", 10000, 6, 60000, authority,
                               f"{authority}.fee_waiver", "2026.12-4", terms, iso(t + 400), "accepted"))
                agreements.append((f"AG-{index}", "HCF-1", sender, len(offers), "B", "en", "2026.12-4", terms, "yes",
                                   iso(t + 500)))
        if rng.random() < 0.15:
            escalations.append((sender, channel, rng.choice(["request_human", "hardship", "dispute", "complaint"]),
                                2, "{}", "closed", iso(t), iso(t + 120), iso(t + 1500), "resolved", "en", iso(t + 180)))
        if rng.random() < 0.01:
            opt_outs.append((sender, "HCF-1", channel, "stop", iso(t + 30)))
    c.executemany("INSERT INTO verified_sessions (conversation_id, loan_reference, channel, verified_at, last_seen_at) "
                  "VALUES (?, ?, ?, ?, ?)", verified)
    c.executemany("INSERT INTO escalations (conversation_id, channel, reason, priority, summary, status, created_at, "
                  "claimed_at, closed_at, outcome, language, first_agent_reply_at) VALUES "
                  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", escalations)
    c.executemany("INSERT INTO promises_to_pay (conversation_id, loan_reference, amount, due_on, status, recorded_at, "
                  "paid, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", promises)
    c.executemany("INSERT INTO offer_records (id, conversation_id, loan_reference, concessions, monthly, months, "
                  "total_paid, authority, rule, policy_version, terms_json, shown_at, status) VALUES "
                  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", offers)
    c.executemany("INSERT INTO agreements (reference, loan_reference, conversation_id, offer_record_id, borrower_name, "
                  "language, policy_version, terms_json, acceptance_text, accepted_at) VALUES "
                  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", agreements)
    c.executemany("INSERT INTO contact_opt_outs (conversation_id, loan_reference, channel, message, recorded_at) "
                  "VALUES (?, ?, ?, ?, ?)", opt_outs)
    c.execute("INSERT INTO borrowers (id, full_name, date_of_birth, preferred_language) "
              "VALUES (1, 'B', '1980-01-01', 'en')")
    c.executemany("INSERT INTO loans (id, reference, borrower_id, currency, principal, annual_rate, "
                  "contractual_instalment, start_date) VALUES (?, ?, 1, 'EUR', 100000, 100000, 10000, '2025-01-01')",
                  [(i + 1, f"HCF-{i + 1}") for i in range(LOANS)])
    snapshots = []
    for loan in range(1, LOANS + 1):
        dpd = rng.choice([0, 0, 0, 10, 40])
        for offset in range(DAYS + 1):
            dpd = 0 if rng.random() < 0.02 else (dpd + 1 if dpd else (1 if rng.random() < 0.01 else 0))
            snapshots.append((loan, (TODAY - timedelta(days=DAYS - offset)).isoformat(), dpd * 100, dpd))
    c.executemany("INSERT INTO loan_day_status (loan_id, as_of, arrears, days_past_due) VALUES (?, ?, ?, ?)",
                  snapshots)
    c.commit()
    c.close()


def add_events(path: Path, count: int) -> None:
    """`count` more events, as new conversations: copies of the newest rows under other sender ids."""
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                       "SELECT 'new:' || sender_id, type_name, timestamp, intent_name, action_name, data "
                       "FROM (SELECT * FROM events ORDER BY id DESC LIMIT ?) ORDER BY id", (count,))
    connection.commit()
    connection.close()


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def clocked(call) -> tuple[str, object]:
    """Wall and CPU time of one call, as text: the CPU figure is what the call costs on a busy machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return (f"{(time.perf_counter() - wall) * 1000:.0f} ms (CPU {(time.process_time() - cpu) * 1000:.0f} ms)",
            result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    import os
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from bot.analytics.service import Analytics
    from bot.config import load_settings
    from bot.handoff.accounts import create_account
    from bot.storage import Database
    from bot.storage.schema import migrate
    from channels.console import console_router

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as directory:
        var = Path(directory)
        os.environ["APP_VAR_DIR"] = str(var)
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("TRACKER_STORE_URL", None)
        settings = load_settings()
        seconds, conversations = timed(lambda: write_tracker(var / "tracker.db", args.events, rng))
        migrate(settings.database_url)
        database = Database(settings.database_url)
        with database.unit_of_work() as session:
            create_account(session, "boss", "Boss", "supervisor", PASSWORD)
        generate, _ = timed(lambda: write_books(var / "app.db", conversations, rng))
        print(f"generated {args.events:,} tracker events ({len(conversations):,} conversations) in {seconds:.1f} s, "
              f"application rows in {generate:.1f} s")
        # The facts table is filled once for an existing tracker store (the first page load after the upgrade
        # pays for it); from then on each report only folds the events added since the last one.
        backfill = Analytics(settings.database_url, settings.tracker_store_url)
        first_catch_up, folded = clocked(backfill.catch_up)
        print(f"first catch-up of the conversation facts ({folded:,} relevant events, one-time): {first_catch_up}")
        backfill.dispose()
        app = FastAPI()
        app.include_router(console_router(settings, db=database))
        client = TestClient(app)
        form = client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        client.post("/console/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token})
        first_28 = (TODAY - timedelta(days=27)).isoformat()
        cases = [("last 28 days by day", f"from={first_28}&to={TODAY}&grain=day"),
                 ("13 weeks by week", f"from={(TODAY - timedelta(days=90)).isoformat()}&to={TODAY}&grain=week")]
        for name, query in cases:
            cold, response = clocked(lambda: client.get(f"/console/api/analytics?{query}"))
            assert response.status_code == 200, response.text
            cached, _ = clocked(lambda: client.get(f"/console/api/analytics?{query}"))
            started = sum(row[1] for row in next(t for t in response.json()["tables"]
                                                 if t["key"] == "conversations")["rows"])
            print(f"GET /console/api/analytics ({name}, {started:,} conversations started): "
                  f"cold {cold}, cached {cached}")
        add_events(var / "tracker.db", NEW_EVENTS)
        query = cases[0][1]
        fresh, response = clocked(lambda: client.get(f"/console/api/analytics?{query}"))
        assert response.status_code == 200, response.text
        print(f"GET /console/api/analytics (last 28 days by day) after {NEW_EVENTS:,} new tracker events "
              f"(catch-up + report): {fresh}")
        page, _ = clocked(lambda: client.get(f"/console/analytics?from={first_28}&to={TODAY}"))
        print(f"GET /console/analytics page (report cached, HTML): {page}")
        chart_cold, svg = clocked(lambda: client.get(f"/console/api/analytics/containment.svg?{cases[0][1]}"))
        chart_cached, _ = clocked(lambda: client.get(f"/console/api/analytics/containment.svg?{cases[0][1]}"))
        print(f"GET one chart SVG: first {chart_cold}, cached {chart_cached} ({len(svg.content.decode()):,} bytes)")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        database.dispose()


if __name__ == "__main__":
    main()
