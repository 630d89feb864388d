"""Risk scoring benchmark: `python -m bench.risk_score --loans 100000` (make bench-score).

Writes a synthetic book (bot.risk.synthetic, seed 99) into a fresh SQLite database with bulk inserts:
per loan a borrower, 12 monthly instalments (6 past, 6 to come), the past months' payments (returned ones
included), 7 month-end days-past-due snapshots, its promises to pay and, for a hardship, an escalation whose
summary names the cause. Then trains the model on the synthetic portfolio (not timed with the scoring) and
times `score_book`: features from the database, scores and reason codes, one bulk insert of the scores.
Target: under 30 s for 100,000 loans.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.demo.seed import add_months
from bot.risk.scoring import score_book, train_on_synthetic
from bot.risk.synthetic import HISTORY_MONTHS, generate
from bot.storage import Database
from bot.storage.schema import migrate

TODAY = date(2026, 11, 28)
FUTURE_MONTHS = 6


def write_book(database: Database, loans: int, seed: int = 99) -> dict[str, int]:
    """The synthetic portfolio as database rows (raw executemany: cents, ISO dates); returns row counts."""
    portfolio = generate(loans, seed=seed)
    month_ends = [TODAY - timedelta(days=30 * (HISTORY_MONTHS - 1 - k)) for k in range(HISTORY_MONTHS)]
    now_text = datetime(2026, 11, 28, 9, 0).isoformat(sep=" ")
    rows: dict[str, list[tuple]] = {name: [] for name in (
        "borrowers", "loans", "scheduled_instalments", "payments", "loan_day_status", "promises_to_pay",
        "escalations")}
    instalment_id = 0
    for i, reference in enumerate(portfolio.references):
        loan_id = i + 1
        cents = int(round(portfolio.due[i, 0] * 100))
        rows["borrowers"].append((loan_id, f"Bench borrower {i}", "1980-01-15", "en"))
        rows["loans"].append((loan_id, f"HCF-{300000 + i}", loan_id, "CNY", cents * 24, 180000, cents,
                              add_months(TODAY, -12).isoformat()))
        for number in range(HISTORY_MONTHS - 1 + FUTURE_MONTHS):
            instalment_id += 1
            due = add_months(TODAY, number - (HISTORY_MONTHS - 2))
            rows["scheduled_instalments"].append((instalment_id, loan_id, number + 1, due.isoformat(), cents,
                                                  cents - 1000, 1000))
        for month, as_of in enumerate(month_ends):
            rows["loan_day_status"].append((loan_id, as_of.isoformat(), cents * int(portfolio.bucket[i, month]),
                                            int(portfolio.dpd[i, month])))
            paid_on = (as_of - timedelta(days=3)).isoformat()
            if portfolio.paid[i, month] > 0:
                rows["payments"].append((loan_id, int(round(portfolio.paid[i, month] * 100)), paid_on, "SUCCEEDED"))
            if portfolio.returned[i, month]:
                rows["payments"].append((loan_id, cents, paid_on, "RETURNED"))
            for status, count in (("kept", portfolio.promises_kept[i, month]),
                                  ("broken", portfolio.promises_broken[i, month])):
                rows["promises_to_pay"].extend([(f"bench-{i}", f"HCF-{300000 + i}", cents, paid_on, status,
                                                 now_text, 0)] * int(count))
        if portfolio.hardship_cause[i]:
            summary = {"loan_ref": f"HCF-{300000 + i}", "hardship_cause": portfolio.hardship_cause[i],
                       "hardship_temporary": bool(portfolio.hardship_temporary[i])}
            rows["escalations"].append((f"bench-{i}", "hardship", 3, json.dumps(summary), "closed", now_text, "en"))
    statements = {
        "borrowers": "INSERT INTO borrowers (id, full_name, date_of_birth, preferred_language) VALUES (?, ?, ?, ?)",
        "loans": "INSERT INTO loans (id, reference, borrower_id, currency, principal, annual_rate, "
                 "contractual_instalment, start_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        "scheduled_instalments": "INSERT INTO scheduled_instalments (id, loan_id, number, due_date, amount, "
                                 "principal, interest) VALUES (?, ?, ?, ?, ?, ?, ?)",
        "payments": "INSERT INTO payments (loan_id, amount, paid_on, status) VALUES (?, ?, ?, ?)",
        "loan_day_status": "INSERT INTO loan_day_status (loan_id, as_of, arrears, days_past_due) VALUES (?, ?, ?, ?)",
        "promises_to_pay": "INSERT INTO promises_to_pay (conversation_id, loan_reference, amount, due_on, status, "
                           "recorded_at, paid) VALUES (?, ?, ?, ?, ?, ?, ?)",
        "escalations": "INSERT INTO escalations (conversation_id, reason, priority, summary, status, created_at, "
                       "language) VALUES (?, ?, ?, ?, ?, ?, ?)",
    }
    connection = database.engine.raw_connection()
    try:
        cursor = connection.cursor()
        for table, statement in statements.items():
            cursor.executemany(statement, rows[table])
        connection.commit()
    finally:
        connection.close()
    return {table: len(values) for table, values in rows.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.risk_score")
    parser.add_argument("--loans", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        migrate(url)
        database = Database(url)
        try:
            started = time.perf_counter()
            counts = write_book(database, args.loans)
            print(f"book written in {time.perf_counter() - started:.1f} s: "
                  + ", ".join(f"{table} {count}" for table, count in counts.items()))
            started = time.perf_counter()
            stored = train_on_synthetic()
            print(f"model {stored.version} trained on the {stored.trained_on} in {time.perf_counter() - started:.1f} s")
            started, cpu = time.perf_counter(), time.process_time()
            run = score_book(database, stored, TODAY, datetime(2026, 11, 28, 9, 30))
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            database.dispose()
    print(f"scored and stored {run.loans} loans in {seconds:.2f} s wall, {cpu:.2f} s CPU of this process (features {run.seconds_features:.2f} s, "
          f"scoring {run.seconds_scoring:.2f} s, storing {run.seconds_storing:.2f} s); target < 30 s: "
          + ("met" if seconds < 30 else "NOT met"))
    print("bands: " + ", ".join(f"{name} {count}" for name, count in run.bands.items())
          + f"; PSI training vs scored {run.psi:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
