"""`python -m bench.long_conversation` (`make bench-long`): does a turn cost more as its conversation grows?

One borrower, one sender, one session, `--turns` turns (400 by default) over the REST channel,
sequentially: greet, verify on a bench clone of Alex Morgan's loan, then a cycle of questions the
assistant answers without a handoff (arrears, options, purpose, thanks). Every turn must get a
non-empty reply; the arrears must be stated after verification. Prints the median latency per
window of turns (1-20, 100-120, 200-220, 380-400, ...) and the target of issue 16: the median of the
last window within 1.5x of the first. Also the tracker's size (events stored) and the CPU time each
process spent per turn in the first and last window.

What grows with a conversation and how it is bounded: docs/PERFORMANCE.md ("Long conversations").
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bench.memory import cpu_ms_per_turn, cpu_snapshot, current_rss_mb  # noqa: E402
from bench.run import BENCH_VAR, DOB, OUR_MODEL, loadavg, machine_facts  # noqa: E402
from bench.seed import seed_bench_loans  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WINDOW = 20
TARGET_RATIO = 1.5
CYCLE = ("how much do I owe", "what are my options", "what is this about", "thanks")


def script(reference: str, turns: int) -> list[tuple[str, str | None]]:
    """The conversation's (text, expected marker) pairs: greet, verify, then the cycle of questions."""
    opening = [("hi", None), (f"{reference} {DOB}", "3,930.00")]
    rest = [(CYCLE[i % len(CYCLE)], None) for i in range(max(0, turns - len(opening)))]
    return (opening + rest)[:turns]


def windows(turns: int, width: int = WINDOW) -> list[tuple[int, int]]:
    """1-based inclusive windows of `width` turns: the first, every hundredth, and the last."""
    starts = sorted({1, *range(100, turns - width + 2, 100), turns - width + 1})
    return [(start, start + width - 1) for start in starts if start >= 1 and start + width - 1 <= turns]


def window_medians(latencies_ms: list[float], spans: list[tuple[int, int]]) -> dict[str, float]:
    return {f"{a}-{b}": round(statistics.median(latencies_ms[a - 1:b]), 1) for a, b in spans}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.long_conversation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--json", type=Path, default=PROJECT_ROOT / "results" / "bench-long.json")
    parser.add_argument("--keep-var", action="store_true", help="keep the run's temporary var dir (logs, dbs)")
    args = parser.parse_args(argv)
    if args.turns < 2 * WINDOW:
        parser.error(f"--turns must be at least {2 * WINDOW}")
    if not OUR_MODEL.exists():
        print(f"{OUR_MODEL} is missing: run `bash scripts/bootstrap.sh` first", file=sys.stderr)
        return 2

    import requests

    from bot.storage import Database
    from tests.e2e.stack import Stack

    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="long-", dir=BENCH_VAR))
    stack = Stack(run_dir)
    database = Database(f"sqlite:///{run_dir / 'app.db'}")
    spans = windows(args.turns)
    first, last = spans[0], spans[-1]
    report: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "command": "python -m bench.long_conversation " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "machine": machine_facts(), "loadavg_before": loadavg(), "turns": args.turns}
    latencies: list[float] = []
    errors: list[dict] = []
    cpu: dict[str, dict] = {}
    try:
        print(f"bench-long: starting our servers (logs in {run_dir}) ...", flush=True)
        stack.setup()
        with database.unit_of_work() as session:
            reference, warm_reference = seed_bench_loans(session, date.today(), 2)
        stack.start()
        roots = {"rasa": stack.processes[1].pid, "actions": stack.processes[0].pid}
        warm = requests.Session()
        for text, _ in script(warm_reference, 3):   # first parse after loading is slow
            warm.post(f"{stack.url}/webhooks/rest/webhook", json={"sender": "warm-up", "message": text}, timeout=60)
        sender = f"long-{int(time.time())}"
        session = requests.Session()
        snapshot = {}
        for number, (text, marker) in enumerate(script(reference, args.turns), start=1):
            if number in (first[0], last[0]):
                snapshot = cpu_snapshot(roots)
            started = time.perf_counter()
            response = session.post(f"{stack.url}/webhooks/rest/webhook",
                                    json={"sender": sender, "message": text}, timeout=120)
            latencies.append((time.perf_counter() - started) * 1000)
            replies = [m.get("text") or "" for m in response.json()] if response.ok else []
            if not response.ok or not any(r.strip() for r in replies) or (marker and marker not in "\n".join(replies)):
                errors.append({"turn": number, "text": text, "status": response.status_code, "replies": replies})
            if number in (first[1], last[1]):
                cpu[f"{number - WINDOW + 1}-{number}"] = cpu_ms_per_turn(snapshot, cpu_snapshot(roots), WINDOW)
            if number % 50 == 0:
                print(f"bench-long: turn {number}: {latencies[-1]:.1f} ms", flush=True)
        tracker = stack.tracker(sender)
        report["tracker_events"] = len(tracker.get("events", []))
        report["memory_mb"] = {name: current_rss_mb(pid) for name, pid in roots.items()}
    finally:
        stack.stop()
        database.dispose()
    report["loadavg_after"] = loadavg()
    report["window_medians_ms"] = window_medians(latencies, spans)
    report["cpu_ms_per_turn"] = cpu
    report["errors"] = errors
    ratio = statistics.median(latencies[last[0] - 1:last[1]]) / statistics.median(latencies[first[0] - 1:first[1]])
    report["last_over_first"] = round(ratio, 2)
    status = "PASS" if ratio <= TARGET_RATIO and not errors else "MISS"
    report["target"] = {"text": f"median of turns {last[0]}-{last[1]} <= {TARGET_RATIO}x the median of turns "
                                f"{first[0]}-{first[1]}, no errors", "status": status}
    report["latencies_ms"] = [round(x, 1) for x in latencies]
    print()
    for span, median in report["window_medians_ms"].items():
        print(f"turns {span:>9}: median {median:7.1f} ms")
    for span, per in cpu.items():
        print(f"CPU ms per turn, turns {span}: " + ", ".join(f"{k} {v}" for k, v in per.items())
              + " (SQLite tracker store and app database: in these processes)")
    print(f"tracker events at the end: {report.get('tracker_events')}; errors: {len(errors)}"
          + (f" (first: {errors[0]})" if errors else ""))
    print(f"{status}  {report['target']['text']}: measured {report['last_over_first']}x")
    print(f"load average before/after {report['loadavg_before']} / {report['loadavg_after']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"JSON: {args.json}")
    if not args.keep_var:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0 if status == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
