"""`python -m bench.run`: our assistant against the `rasa init` baseline, same machine, same run.

Starts our action server + Rasa server (tests/e2e/stack.py, against a temporary var dir with bench
borrowers) and the baseline's Rasa server, then for each load level N runs N simulated borrowers over
the REST channel against each system in turn (warm-up, then a measured window), sampling the memory
of every server process. Prints a table and the targets (PASS/MISS), writes JSON.

What is measured and how: docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bench.baseline import BaselineServer, baseline_meta, ensure_baseline, rasa_version, time_training  # noqa: E402
from bench.load import Conversation, Turn, latency_stats, ratio, run_level  # noqa: E402
from bench.memory import MemorySampler, cpu_ms_per_turn, cpu_snapshot  # noqa: E402
from bench.seed import seed_bench_loans  # noqa: E402
from bot.demo.seed import clear_loan_records  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OUR_MODEL = PROJECT_ROOT / "models" / "assistant.tar.gz"
BENCH_VAR = PROJECT_ROOT / "var" / "bench"
DOB = "1988-04-12"

# Targets from the issue: (level, metric, comparison, bound).
TARGETS = (
    (50, "throughput_ratio", ">=", 2.0, "at N=50 our throughput >= 2x the baseline's"),
    (50, "p95_ratio", "<=", 0.5, "at N=50 our p95 latency <= 0.5x the baseline's"),
    (1, "p50_ratio", "<=", 1.0, "at N=1 our p50 latency <= the baseline's"),
)


def our_conversation(reference: str) -> Conversation:
    """Alex Morgan's negotiation, on one of the bench clones of HCF-1001."""
    return Conversation("ours-medical-bills", (
        Turn("hi"),
        Turn(f"{reference} {DOB}", expect_marker="3,930.00"),   # verified; the arrears are stated
        Turn("I had big medical bills"),
        Turn("I earn 9000 a month"),
        Turn("my essential costs are 7200"),
        Turn("option 1"),
        Turn("I agree", expect_marker="AGR-"),                  # the agreement reference: no handoff
    ), tag=reference)


BASELINE_CONVERSATIONS = (
    Conversation("baseline-sad-path", (Turn("hello"), Turn("I am sad"), Turn("yes"))),
    Conversation("baseline-happy-path", (Turn("hi"), Turn("great"), Turn("bye"))),
)


class LoanPool:
    """Hands each new conversation the next bench loan. Past the end of the pool a loan is reused after
    its agreements, offers, promises and verification attempts are deleted (so anti-stalling never
    hands the conversation to a person); `recycled` counts how often that happened."""

    def __init__(self, database, references: list[str]) -> None:
        self.database = database
        self.references = references
        self.counter = itertools.count()
        self.recycled = 0

    async def next(self, _user: int) -> Conversation:
        index = next(self.counter)
        reference = self.references[index % len(self.references)]
        if index >= len(self.references):
            self.recycled += 1
            await asyncio.get_running_loop().run_in_executor(None, self._clear, reference)
        return our_conversation(reference)

    def _clear(self, reference: str) -> None:
        with self.database.unit_of_work() as session:
            clear_loan_records(session, [reference])


def baseline_source():
    counter = itertools.count()

    async def next_conversation(_user: int) -> Conversation:
        return BASELINE_CONVERSATIONS[next(counter) % len(BASELINE_CONVERSATIONS)]
    return next_conversation


def machine_facts() -> dict:
    facts = {"nproc": len(os.sched_getaffinity(0)), "cpu_count": os.cpu_count(), "python": platform.python_version(),
             "kernel": platform.release()}
    try:
        meminfo = Path("/proc/meminfo").read_text()
        total_kb = int(next(line for line in meminfo.splitlines() if line.startswith("MemTotal:")).split()[1])
        facts["ram_gb"] = round(total_kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    try:
        facts["cpu_model"] = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                                  .splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return facts


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def mb(path: Path) -> float | None:
    return round(path.stat().st_size / 1024 / 1024, 1) if path.exists() else None


def parse_levels(text: str) -> list[int]:
    levels = [int(x) for x in text.split(",") if x.strip()]
    if not levels or any(n < 1 for n in levels):
        raise argparse.ArgumentTypeError("--users takes positive integers, e.g. 1,20,50")
    return levels


def check_target(levels: dict[int, dict], level: int, metric: str, op: str, bound: float, text: str) -> dict:
    value = levels.get(level, {}).get("ratios", {}).get(metric)
    if value is None:
        status = "n/a"
    else:
        status = "PASS" if (value >= bound if op == ">=" else value <= bound) else "MISS"
    return {"target": text, "users": level, "metric": metric, "bound": f"{op} {bound}", "measured": value,
            "status": status}


SYSTEMS = ("ours", "stock", "baseline")
# (numerator, denominator, label): what each ratio row compares.
RATIO_ROWS = (("ours", "baseline", "ours/base"), ("ours", "stock", "ours/stock"), ("stock", "baseline", "stock/base"))
METRICS = ("turns_per_s", "p50_ms", "p95_ms", "p99_ms")


def median_or_none(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def summarise(runs: list[list[dict]]) -> list[dict]:
    """Per level: each system's median of every metric over the runs, and the median of each run's ratios.

    One run's baseline varies by a quarter on this machine (docs/PERFORMANCE.md), so the targets are
    checked on medians of the runs' own ratios (each run measures both systems minutes apart)."""
    levels = []
    for index, first in enumerate(runs[0]):
        per_run = [run[index] for run in runs]
        level: dict = {"users": first["users"], "runs": len(runs)}
        for system in SYSTEMS:
            rows = [r[system] for r in per_run if system in r]
            if not rows:
                continue
            merged = {**rows[-1]}
            for metric in METRICS:
                merged[metric] = median_or_none([row[metric] for row in rows])
            merged["errors"] = sum(row["errors"] for row in rows)
            merged["turns"] = sum(row["turns"] for row in rows)
            merged["conversations_completed"] = sum(row["conversations_completed"] for row in rows)
            merged["per_run"] = {metric: [row[metric] for row in rows] for metric in (*METRICS, "errors")}
            merged["cpu_ms_per_turn"] = {name: median_or_none([row["cpu_ms_per_turn"].get(name) for row in rows])
                                         for name in rows[0].get("cpu_ms_per_turn", {})}
            merged["memory"] = {name: {"peak_rss_mb": max(row["memory"][name]["peak_rss_mb"] for row in rows)}
                                for name in rows[0]["memory"]}
            level[system] = merged
        for numerator, denominator, label in RATIO_ROWS:
            if numerator in level and denominator in level:
                each = [ratios(r[numerator], r[denominator]) for r in per_run]
                level.setdefault("ratio_rows", {})[label] = {
                    key: median_or_none([e[key] for e in each]) for key in each[0]}
        level["ratios"] = level.get("ratio_rows", {}).get("ours/base")
        level["loadavg_before"] = {system: [(r[system].get("loadavg_before") or [None])[0] for r in per_run]
                                   for system in SYSTEMS if system in first}
        levels.append(level)
    return levels


def ratios(ours: dict, base: dict) -> dict:
    return {"throughput_ratio": ratio(ours["turns_per_s"], base["turns_per_s"]),
            "p50_ratio": ratio(ours["p50_ms"], base["p50_ms"]),
            "p95_ratio": ratio(ours["p95_ms"], base["p95_ms"]),
            "p99_ratio": ratio(ours["p99_ms"], base["p99_ms"])}


def fmt(value, width: int, digits: int = 1) -> str:
    if value is None:
        return "-".rjust(width)
    if isinstance(value, float):
        return f"{value:.{digits}f}".rjust(width)
    return str(value).rjust(width)


def render_table(report: dict) -> str:
    runs = report["config"].get("repeat", 1)
    head = (f"{'N':>3}  {'system':<10}{'turns':>7}{'turns/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
            f"{'errors':>8}{'conv':>6}{'rasa MB':>9}{'actions MB':>11}  CPU ms/turn (rasa, actions, bench client)")
    lines = [f"median of {runs} alternating run(s) per level; ratios are medians of each run's ratio"
             if runs > 1 else "one run per level", head, "-" * len(head)]
    for level in report["levels"]:
        for system in SYSTEMS:
            row = level.get(system)
            if row is None:
                continue
            memory = row.get("memory", {})
            cpu = row.get("cpu_ms_per_turn", {})
            lines.append(
                f"{level['users']:>3}  {system:<10}{fmt(row['turns'], 7)}{fmt(row['turns_per_s'], 9, 2)}"
                f"{fmt(row['p50_ms'], 9)}{fmt(row['p95_ms'], 9)}{fmt(row['p99_ms'], 9)}{fmt(row['errors'], 8)}"
                f"{fmt(row['conversations_completed'], 6)}"
                f"{fmt(memory.get('rasa', {}).get('peak_rss_mb'), 9)}"
                f"{fmt(memory.get('actions', {}).get('peak_rss_mb'), 11)}  "
                + ", ".join(fmt(cpu.get(name), 0, 1).strip() for name in ("rasa", "actions", "client")))
        for label, r in (level.get("ratio_rows") or {"ours/base": level.get("ratios")}).items():
            if r:
                lines.append(f"{'':>3}  {label:<10}{'':>7}{fmt(r['throughput_ratio'], 9, 2)}"
                             f"{fmt(r['p50_ratio'], 9, 2)}{fmt(r['p95_ratio'], 9, 2)}{fmt(r['p99_ratio'], 9, 2)}")
    lines.append("")
    for target in report["targets"]:
        measured = "-" if target["measured"] is None else f"{target['measured']:.2f}"
        lines.append(f"{target['status']:<5} {target['target']}: measured ratio {measured} "
                     f"(needs {target['bound']})")
    models = report["models"]
    lines.append("")
    lines.append(f"model size: ours {models['ours_mb']} MB (models/assistant.tar.gz), "
                 f"baseline {models['baseline_mb']} MB")
    training = report.get("training") or {}
    if training.get("ours_s") is not None:
        lines.append(f"training time (full, forced, no cache): ours {training['ours_s']} s, "
                     f"baseline {training.get('baseline_s')} s")
    else:
        lines.append("training time: not measured (add --measure-training; takes minutes)"
                     + (f"; baseline's first build (init+train) took {training['baseline_first_build_s']} s"
                        if training.get("baseline_first_build_s") else ""))
    probe = report.get("nlu_parse_n1")
    if probe:
        lines.append(f"NLU alone (POST /model/parse, sequential): p50 ours {probe['ours']['p50_ms']} ms, "
                     f"baseline {probe['baseline']['p50_ms']} ms")
    lines.append(f"machine: {report['machine'].get('nproc')} cores, {report['machine'].get('ram_gb')} GB RAM; "
                 f"load average before/after {report['loadavg_before']} / {report['loadavg_after']}")
    lines.append("1-min load average before each measurement (per run): " + "; ".join(
        f"N={level['users']} " + " ".join(f"{system} {'/'.join(str(x) for x in values)}"
                                          for system, values in level.get("loadavg_before", {}).items())
        for level in report["levels"]))
    lines.append("CPU ms/turn: utime+stime from /proc over warm-up and window / turns answered; the SQLite "
                 "tracker store runs inside the Rasa process and the app database inside the action server "
                 "(no database process); 'client' is the load generator itself")
    return "\n".join(lines)


def measure_level(url: str, users: int, args, source, roots: dict[str, int], prefix: str) -> dict:
    async def go() -> dict:
        sampler = MemorySampler(roots)
        loadavg_before = loadavg()
        cpu_before = {**cpu_snapshot(roots), "client": time.process_time()}   # the client: this process alone
        sampler.start()
        try:
            result = await run_level(url, users, args.duration_s, args.warmup_s, source, sender_prefix=prefix,
                                     max_turns=args.turns)
        finally:
            memory = await sampler.stop()
        cpu = cpu_ms_per_turn(cpu_before, {**cpu_snapshot(roots), "client": time.process_time()}, result.answered)
        return {**result.summary(), "memory": memory, "cpu_ms_per_turn": cpu, "loadavg_before": loadavg_before}
    return asyncio.run(go())


def stock_server(stack, run_dir: Path) -> BaselineServer:
    """Our model, credentials and action server on stock `rasa run`: what rasa_runtime buys on our own bot."""
    env = {**stack.env, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(PROJECT_ROOT)}
    return BaselineServer(OUR_MODEL, free_port_for_stock(), run_dir, base_dir=PROJECT_ROOT, name="stock", env=env,
                          extra_args=["--endpoints", str(run_dir / "endpoints-stock.yml"),
                                      "--credentials", str(run_dir / "credentials.yml")])


def free_port_for_stock() -> int:
    from tests.e2e.stack import free_port
    return free_port()


def write_stock_endpoints(run_dir: Path) -> None:
    """Our endpoints with Rasa's own SQL tracker store on a database of its own (same action server)."""
    import yaml

    endpoints = yaml.safe_load((run_dir / "endpoints.yml").read_text())
    endpoints["tracker_store"] = {"type": "SQL", "dialect": "sqlite", "db": str(run_dir / "tracker-stock.db")}
    (run_dir / "endpoints-stock.yml").write_text(yaml.safe_dump(endpoints))


def warm_once(url: str, conversation: Conversation) -> None:
    """One unmeasured conversation: the first parse of a freshly loaded model is slow."""
    async def go() -> None:
        async def source(_user: int) -> Conversation:
            return conversation
        await run_level(url, 1, duration_s=120, warmup_s=0, next_conversation=source, sender_prefix="warm",
                        max_turns=len(conversation.turns))
    asyncio.run(go())


def parse_probe(url: str, texts: list[str], token: str | None, rounds: int = 5) -> dict:
    """Latency of NLU alone (`POST /model/parse`, sequential): splits a turn into NLU vs the rest."""
    import requests

    params = {"token": token} if token else {}
    latencies = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            requests.post(f"{url}/model/parse", params=params, json={"text": text}, timeout=60).raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
    return {"requests": len(latencies), **latency_stats(latencies)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=parse_levels, default=[1, 20, 50], help="load levels (default 1,20,50)")
    parser.add_argument("--duration-s", type=float, default=30.0, help="measured window per level and system")
    parser.add_argument("--warmup-s", type=float, default=5.0, help="unmeasured warm-up before each window")
    parser.add_argument("--turns", type=int, default=None,
                        help="close each window after this many turns instead (--duration-s stays a cap)")
    parser.add_argument("--pool", type=int, default=200, help="bench loans HCF-70001... (one per conversation)")
    parser.add_argument("--json", type=Path, default=PROJECT_ROOT / "results" / "bench.json")
    parser.add_argument("--measure-training", action="store_true",
                        help="also time a full `rasa train` of ours and of the baseline (minutes)")
    parser.add_argument("--rasa-workers", type=int, default=1,
                        help="Sanic worker processes for our Rasa server (>1 needs --redis-url: the lock store)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"),
                        help="Redis for Rasa's lock store when --rasa-workers > 1 (default: $REDIS_URL)")
    parser.add_argument("--keep-var", action="store_true", help="keep the run's temporary var dir (logs, dbs)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every level this many times, the systems' order rotating; report medians")
    parser.add_argument("--no-stock", action="store_true",
                        help="leave out 'stock': our model and action server on plain `rasa run` (no rasa_runtime)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not OUR_MODEL.exists():
        print(f"{OUR_MODEL} is missing: run `bash scripts/bootstrap.sh` (or `make bench`) first", file=sys.stderr)
        return 2
    if args.pool < 2 * max(args.users):
        parser.error(f"--pool {args.pool} must be at least twice the largest level ({max(args.users)})")
    if args.rasa_workers > 1 and not args.redis_url:
        parser.error("--rasa-workers > 1 needs Redis for Rasa's lock store: pass --redis-url or set REDIS_URL")

    from bot.storage import Database
    from tests.e2e.stack import Stack, free_port

    command = "python -m bench.run " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    started_at = datetime.now(timezone.utc).astimezone()
    print(f"bench: rasa {rasa_version()}, {len(os.sched_getaffinity(0))} cores, load average {loadavg()}",
          flush=True)
    baseline_model = ensure_baseline()
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=BENCH_VAR))

    training: dict = {"baseline_first_build_s": baseline_meta().get("init_and_train_s")}
    if args.measure_training:
        print("bench: timing a full training of ours (rasa train --force, no cache) ...", flush=True)
        training["ours_s"] = time_training(PROJECT_ROOT, BENCH_VAR / "model", "bench", run_dir / "train-ours.log")
        print(f"bench: ours trained in {training['ours_s']} s; now the baseline ...", flush=True)
        training["baseline_s"] = time_training(baseline_model.parent.parent, BENCH_VAR / "model",
                                               "baseline-timed", run_dir / "train-baseline.log")
        print(f"bench: baseline trained in {training['baseline_s']} s", flush=True)

    stack_env = {}
    if args.rasa_workers > 1:
        # Rasa refuses more than one Sanic worker with its in-memory lock store.
        stack_env = {"SANIC_WORKERS": str(args.rasa_workers), "REDIS_URL": args.redis_url}
    stack = Stack(run_dir, stack_env)
    baseline = BaselineServer(baseline_model, free_port(), run_dir)
    stock = None if args.no_stock else stock_server(stack, run_dir)
    database = Database(f"sqlite:///{run_dir / 'app.db'}")
    report: dict = {
        "date": started_at.isoformat(timespec="seconds"), "command": command, "rasa": rasa_version(),
        "machine": machine_facts(), "loadavg_before": loadavg(),
        "config": {"users": args.users, "duration_s": args.duration_s, "warmup_s": args.warmup_s,
                   "turns": args.turns, "pool": args.pool, "repeat": args.repeat,
                   "rasa_processes": {"ours": args.rasa_workers, "stock": 0 if stock is None else 1, "baseline": 1},
                   "tf_threads": "TF_INTRA_OP/INTER_OP_PARALLELISM_THREADS=1 for both"},
        "models": {"ours_mb": mb(OUR_MODEL), "baseline_mb": mb(baseline_model)},
        "training": training,
        "conversations": {"ours": [t.text for t in our_conversation("HCF-7xxxx").turns],
                          "baseline": [[t.text for t in c.turns] for c in BASELINE_CONVERSATIONS]},
        "levels": [],
    }
    try:
        print(f"bench: starting our servers and the baseline (logs in {run_dir}) ...", flush=True)
        stack.setup()
        with database.unit_of_work() as session:
            references = seed_bench_loans(session, date.today(), args.pool)
        stack.start()
        baseline.start()
        servers = {"ours": (stack.url, {"rasa": stack.processes[1].pid, "actions": stack.processes[0].pid}),
                   "baseline": (baseline.url, {"rasa": baseline.pid})}
        if stock is not None:
            write_stock_endpoints(run_dir)
            stock.start()
            servers["stock"] = (stock.url, {"rasa": stock.pid, "actions": stack.processes[0].pid})
        warm_once(stack.url, our_conversation(references[-1]))
        warm_once(baseline.url, BASELINE_CONVERSATIONS[0])
        if stock is not None:
            warm_once(stock.url, our_conversation(references[-2]))
        report["nlu_parse_n1"] = {
            "ours": parse_probe(stack.url, [t.text for t in our_conversation(references[0]).turns], "e2e-token"),
            "baseline": parse_probe(baseline.url, [t.text for c in BASELINE_CONVERSATIONS for t in c.turns], None),
        }
        systems = [s for s in SYSTEMS if s in servers]
        runs: list[list[dict]] = []
        for repeat in range(args.repeat):
            levels = []
            for position, users in enumerate(args.users):
                level: dict = {"users": users}
                # Rotate which system goes first, so a drift in the machine's other load hits all alike.
                shift = (position + repeat) % len(systems)
                for system in systems[shift:] + systems[:shift]:
                    url, roots = servers[system]
                    print(f"bench: run {repeat + 1}/{args.repeat} N={users} {system} ...", flush=True)
                    if system == "baseline":
                        level[system] = measure_level(url, users, args, baseline_source(), roots, "bench")
                    else:
                        stack.reset_demo()   # python -m bot.cli reset-demo, against the bench's database
                        with database.unit_of_work() as session:
                            seed_bench_loans(session, date.today(), args.pool)
                        pool = LoanPool(database, references)
                        level[system] = measure_level(url, users, args, pool.next, roots, f"bench-{system}")
                        level[system]["loans_recycled"] = pool.recycled
                    row = level[system]
                    print(f"bench:   {row['turns']} turns, {row['turns_per_s']}/s, p50 {row['p50_ms']} ms, "
                          f"p95 {row['p95_ms']} ms, errors {row['errors']} {row['error_kinds'] or ''}, "
                          f"CPU ms/turn {row['cpu_ms_per_turn']}, load {row['loadavg_before']}", flush=True)
                    time.sleep(1)
                levels.append(level)
            runs.append(levels)
        report["runs"] = runs
        report["levels"] = summarise(runs)
    finally:
        if stock is not None:
            stock.stop()
        baseline.stop()
        stack.stop()
        database.dispose()
    report["loadavg_after"] = loadavg()
    by_users = {level["users"]: level for level in report["levels"]}
    report["targets"] = [check_target(by_users, *target) for target in TARGETS]
    print()
    print(render_table(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    if not args.keep_var:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
