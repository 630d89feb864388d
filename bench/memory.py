"""Resident memory of server processes (and their children) from /proc, sampled: no psutil needed.

`VmHWM` is the kernel's high-water mark of a process's resident set; writing "5" to
/proc/<pid>/clear_refs resets it (Linux >= 4.0), which lets each load level report its own peak.
`VmRSS` is sampled as well, as a fallback where the reset is not allowed.
"""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")


def parse_status(text: str) -> dict[str, int]:
    """The memory fields of a /proc/<pid>/status text (`VmRSS:   1234 kB`) in kB."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if not sep or not key.startswith("Vm"):
            continue
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            values[key] = int(parts[0])
    return values


def parse_ppid(stat_text: str) -> int:
    """The parent pid from a /proc/<pid>/stat line; the command name may hold spaces and parentheses."""
    after_name = stat_text[stat_text.rindex(")") + 2:]
    return int(after_name.split()[1])


def read_status(pid: int, proc: Path = PROC) -> dict[str, int]:
    try:
        return parse_status((proc / str(pid) / "status").read_text())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return {}


def children_map(proc: Path = PROC) -> dict[int, list[int]]:
    """parent pid -> child pids, from one scan of /proc."""
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = parse_ppid((entry / "stat").read_text())
        except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(root: int, proc: Path = PROC, children: dict[int, list[int]] | None = None) -> list[int]:
    """`root` and all its descendants that are alive now."""
    if children is None:
        children = children_map(proc)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if (proc / str(pid)).exists():
            tree.append(pid)
            todo.extend(children.get(pid, []))
    return tree


def reset_peak(pids: list[int], proc: Path = PROC) -> bool:
    """Reset VmHWM of these processes; False when the kernel or permissions do not allow it."""
    done = True
    for pid in pids:
        try:
            with open(proc / str(pid) / "clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            done = False
    return done


def kb_to_mb(kb: int) -> float:
    return round(kb / 1024, 1)


@dataclass
class TreePeak:
    """Peak memory of one process tree over a sampling period."""

    name: str
    root: int
    hwm_reset: bool = False
    max_rss_kb: int = 0        # highest sampled sum of VmRSS over the tree
    max_hwm_kb: int = 0        # highest sum of VmHWM over the tree (exact peak when the reset worked)
    samples: int = 0
    pids_seen: set[int] = field(default_factory=set)

    def sample(self, proc: Path = PROC, children: dict[int, list[int]] | None = None) -> None:
        rss = hwm = 0
        for pid in process_tree(self.root, proc, children):
            status = read_status(pid, proc)
            rss += status.get("VmRSS", 0)
            hwm += status.get("VmHWM", 0)
            self.pids_seen.add(pid)
        self.max_rss_kb = max(self.max_rss_kb, rss)
        self.max_hwm_kb = max(self.max_hwm_kb, hwm)
        self.samples += 1

    @property
    def peak_mb(self) -> float:
        """The best peak we have: VmHWM when it was reset for this period, else sampled VmRSS."""
        return kb_to_mb(max(self.max_rss_kb, self.max_hwm_kb) if self.hwm_reset else self.max_rss_kb)

    def as_dict(self) -> dict:
        return {"name": self.name, "pid": self.root, "peak_rss_mb": self.peak_mb,
                "sampled_max_rss_mb": kb_to_mb(self.max_rss_kb), "vm_hwm_mb": kb_to_mb(self.max_hwm_kb),
                "hwm_reset": self.hwm_reset, "samples": self.samples, "processes": len(self.pids_seen)}


class MemorySampler:
    """Samples named process trees every `interval` seconds while a load level runs."""

    def __init__(self, roots: dict[str, int], interval: float = 0.5) -> None:
        self.interval = interval
        self.peaks = {name: TreePeak(name, pid) for name, pid in roots.items()}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        for peak in self.peaks.values():
            peak.hwm_reset = reset_peak(process_tree(peak.root))
            peak.sample()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            children = children_map()
            for peak in self.peaks.values():
                peak.sample(children=children)

    async def stop(self) -> dict[str, dict]:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for peak in self.peaks.values():
            peak.sample()
        return {name: peak.as_dict() for name, peak in self.peaks.items()}


def parse_cpu_ticks(stat_text: str) -> int:
    """utime + stime (clock ticks) from a /proc/<pid>/stat line (fields 14 and 15; the name may hold spaces)."""
    fields = stat_text[stat_text.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])   # fields[0] is field 3 (state)


def cpu_seconds(root: int, proc: Path = PROC) -> float:
    """CPU time (user + system) used so far by `root` and its live descendants, in seconds.

    Read before and after a measured window: the difference over the window's turns is the CPU cost
    of a turn in that process. A child that exits inside the window takes its time with it (Sanic
    workers live as long as the server, so this does not happen in the bench).
    """
    ticks = 0
    for pid in process_tree(root, proc):
        try:
            ticks += parse_cpu_ticks((proc / str(pid) / "stat").read_text())
        except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each named process tree now."""
    return {name: cpu_seconds(pid) for name, pid in roots.items()}


def cpu_ms_per_turn(before: dict[str, float], after: dict[str, float], turns: int) -> dict[str, float | None]:
    """CPU milliseconds each named process tree spent per turn between two snapshots."""
    return {name: (round((after[name] - before[name]) * 1000 / turns, 2) if turns else None) for name in before}


def current_rss_mb(pid: int) -> float:
    return kb_to_mb(sum(read_status(p).get("VmRSS", 0) for p in process_tree(pid)))


if __name__ == "__main__":  # a quick look at this very process
    print(read_status(os.getpid()))
