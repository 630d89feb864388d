"""Fast unit tests of the bench's statistics, reply judging and /proc parsing (nothing timed)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import LevelResult, Turn, TurnRecord, judge, latency_stats, percentile, ratio
from bench.memory import TreePeak, children_map, parse_ppid, parse_status, process_tree

STATUS = """Name:\trasa
Umask:\t0022
State:\tS (sleeping)
Pid:\t4242
PPid:\t1
VmPeak:\t 3456789 kB
VmSize:\t 3400000 kB
VmHWM:\t  912345 kB
VmRSS:\t  901234 kB
Threads:\t12
"""


def test_percentile_interpolates_like_numpy():
    values = [15, 20, 35, 40, 50]
    assert percentile(values, 0) == 15
    assert percentile(values, 100) == 50
    assert percentile(values, 50) == 35
    assert percentile(values, 40) == pytest.approx(29.0)   # numpy.percentile(values, 40) == 29.0
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)


def test_percentile_of_one_and_of_none():
    assert percentile([7.5], 99) == 7.5
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_percentile_does_not_depend_on_order():
    assert percentile([5, 1, 4, 2, 3], 50) == 3


def test_latency_stats_rounds_and_handles_empty():
    stats = latency_stats([100.04, 200.0, 300.0])
    assert stats["p50_ms"] == 200.0 and stats["max_ms"] == 300.0 and stats["mean_ms"] == 200.0
    assert latency_stats([]) == {"p50_ms": None, "p95_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}


def test_ratio():
    assert ratio(10, 4) == 2.5
    assert ratio(None, 4) is None and ratio(3, 0) is None


def test_level_summary_counts_throughput_latency_and_errors_by_window():
    result = LevelResult(users=2, duration_s=10.0, turns=[
        TurnRecord(0.0, 0.100, True),
        TurnRecord(0.0, 0.300, True),
        TurnRecord(0.0, 0.200, False, "empty_reply"),
        TurnRecord(0.0, 0.400, True, started_in_window=False),               # began in the warm-up
        TurnRecord(0.0, 0.900, True, ended_in_window=False),                 # ended after the window
    ])
    summary = result.summary()
    assert summary["turns"] == 4                      # started inside the window
    assert summary["ok_turns_in_window"] == 3         # ok and ended inside the window
    assert summary["turns_per_s"] == 0.3
    assert summary["errors"] == 1 and summary["error_kinds"] == {"empty_reply": 1}
    assert summary["p50_ms"] == 300.0                 # of 100, 300, 900


def test_judge_replies():
    turn = Turn("I agree", expect_marker="AGR-")
    assert judge(200, [{"text": "Recorded, reference AGR-20261128-ABC123."}, {"image": "x"}], turn) is None
    assert judge(200, [], Turn("hi")) == "empty_reply"
    assert judge(200, [{"text": "  "}, {"image": "x"}], Turn("hi")) == "empty_reply"
    assert judge(200, [], Turn("bye", expect_reply=False)) is None
    assert judge(200, [{"text": "A person will contact you."}], turn) == "unexpected_reply"
    assert judge(500, None, turn) == "http_500"
    with pytest.raises(ValueError):
        judge(200, {"error": "x"}, Turn("hi"))


def test_parse_status_reads_memory_fields_in_kb():
    values = parse_status(STATUS)
    assert values["VmHWM"] == 912345 and values["VmRSS"] == 901234
    assert "Threads" not in values and "Pid" not in values


def test_parse_ppid_survives_spaces_and_parentheses_in_the_name():
    assert parse_ppid("4242 (rasa) S 17 4242 4242 0 -1") == 17
    assert parse_ppid("4243 (a (weird) name) R 4242 1 1 0 -1") == 4242


def fake_proc(root: Path, processes: dict[int, tuple[int, int, int]]) -> Path:
    """pid -> (ppid, VmRSS kB, VmHWM kB) as a tiny /proc."""
    for pid, (ppid, rss, hwm) in processes.items():
        d = root / str(pid)
        d.mkdir()
        (d / "stat").write_text(f"{pid} (python) S {ppid} {pid} {pid} 0 -1\n")
        (d / "status").write_text(f"Name:\tpython\nVmHWM:\t{hwm} kB\nVmRSS:\t{rss} kB\n")
    (root / "self").mkdir()
    return root


def test_process_tree_and_peak_over_children(tmp_path):
    proc = fake_proc(tmp_path, {10: (1, 1000, 1500), 11: (10, 200, 300), 12: (11, 100, 100), 20: (1, 5000, 5000)})
    assert sorted(process_tree(10, proc)) == [10, 11, 12]
    assert children_map(proc)[1] == [10, 20] or sorted(children_map(proc)[1]) == [10, 20]
    peak = TreePeak("rasa", 10)
    peak.sample(proc)
    assert peak.max_rss_kb == 1300 and peak.max_hwm_kb == 1900
    assert peak.peak_mb == round(1300 / 1024, 1)       # HWM not reset: the sampled RSS
    peak.hwm_reset = True
    assert peak.peak_mb == round(1900 / 1024, 1)
    assert process_tree(99, proc) == []


def test_per_turn_label_hides_the_loan_reference():
    from bench.load import Conversation, _label

    conversation = Conversation("ours", (Turn("HCF-70001 1988-04-12"),), tag="HCF-70001")
    assert _label(conversation, 2, conversation.turns[0]) == "ours#2:<loan> 1988-04-12"


STAT = "4242 (rasa (worker) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 8 9 20 0 12 0 100 3456789 2000"


def test_cpu_ticks_are_utime_plus_stime_whatever_the_name():
    from bench.memory import parse_cpu_ticks
    assert parse_cpu_ticks(STAT) == 1234 + 567


def test_cpu_ms_per_turn():
    from bench.memory import cpu_ms_per_turn
    assert cpu_ms_per_turn({"rasa": 1.0, "actions": 2.0}, {"rasa": 3.5, "actions": 2.5}, 100) == {
        "rasa": 25.0, "actions": 5.0}
    assert cpu_ms_per_turn({"rasa": 1.0}, {"rasa": 2.0}, 0) == {"rasa": None}


def _row(tput: float, p95: float) -> dict:
    return {"turns_per_s": tput, "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95, "errors": 0, "turns": 10,
            "conversations_completed": 1, "cpu_ms_per_turn": {"rasa": tput}, "memory": {"rasa": {"peak_rss_mb": tput}}}


def test_repeated_runs_are_summarised_by_medians_of_each_runs_ratio():
    from bench.run import summarise
    runs = [[{"users": 50, "ours": _row(100, 500), "baseline": _row(50, 1000)}],
            [{"users": 50, "ours": _row(90, 600), "baseline": _row(30, 1000)}],
            [{"users": 50, "ours": _row(80, 700), "baseline": _row(60, 1000)}]]
    level = summarise(runs)[0]
    assert level["ours"]["turns_per_s"] == 90
    assert level["baseline"]["turns_per_s"] == 50
    assert level["ratios"]["throughput_ratio"] == 2.0          # median of 2.0, 3.0, 1.333 (not 90 / 50)
    assert level["ratios"]["p95_ratio"] == 0.6
    assert level["ours"]["per_run"]["turns_per_s"] == [100, 90, 80]
    assert "ours/stock" not in level["ratio_rows"]


def test_long_conversation_windows_and_medians():
    from bench.long_conversation import script, window_medians, windows
    assert windows(400) == [(1, 20), (100, 119), (200, 219), (300, 319), (381, 400)]
    assert windows(60) == [(1, 20), (41, 60)]
    assert window_medians(list(range(1, 61)), [(1, 20), (41, 60)]) == {"1-20": 10.5, "41-60": 50.5}
    turns = script("HCF-70001", 7)
    assert turns[1] == ("HCF-70001 1988-04-12", "3,930.00") and len(turns) == 7


def test_stock_rasa_gets_our_endpoints_with_rasas_own_tracker_store(tmp_path):
    import yaml

    from bench.run import write_stock_endpoints
    (tmp_path / "endpoints.yml").write_text(yaml.safe_dump({
        "action_endpoint": {"url": "http://127.0.0.1:1/webhook", "headers": {"Authorization": "Bearer x"}},
        "tracker_store": {"type": "rasa_runtime.tracker_store.SQLTrackerStore", "dialect": "sqlite",
                          "db": str(tmp_path / "tracker.db")}}))
    write_stock_endpoints(tmp_path)
    stock = yaml.safe_load((tmp_path / "endpoints-stock.yml").read_text())
    assert stock["tracker_store"] == {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "tracker-stock.db")}
    assert stock["action_endpoint"]["headers"] == {"Authorization": "Bearer x"}
