"""Failed console sign-ins, limited per account and per client over a sliding window.

Every attempt counts as a failure until it succeeds, so a burst of simultaneous guesses
cannot slip in before the first failures are recorded. The counts live in this process's
memory: one web app process is the deployment (README); more processes would each allow
the limit. A client is the address uvicorn reports (X-Forwarded-For only from trusted proxies).
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable

MAX_KEYS = 10_000  # forget idle entries past this many, so guessed names cannot grow memory without end


class SignInThrottle:
    """Refuses sign-in attempts beyond `per_account` or `per_client` failures within `window_seconds`."""

    def __init__(self, per_account: int = 5, per_client: int = 20, window_seconds: float = 900,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = {"account": per_account, "client": per_client}
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        return times

    def attempt(self, account: str, client: str) -> int | None:
        """Count an attempt as a failure and return None, or return the seconds to wait (nothing counted)."""
        now = self._clock()
        keys = (("account", account), ("client", client))
        with self._lock:
            waits = []
            for key in keys:
                times, limit = self._recent(key, now), self._limits[key[0]]
                if len(times) >= limit:
                    waits.append(times[-limit] + self._window - now)  # when fewer than `limit` remain
            if waits:
                return max(1, math.ceil(max(waits)))
            for key in keys:
                self._failures[key].append(now)
            if len(self._failures) > MAX_KEYS:
                self._forget_idle(now)
        return None

    def succeeded(self, account: str, client: str) -> None:
        """The attempt was right: it is not a failure, and the account's earlier failures are forgiven."""
        with self._lock:
            self._failures.pop(("account", account), None)
            times = self._failures.get(("client", client))
            if times:
                times.pop()

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, times in self._failures.items() if not times or times[-1] <= now - self._window]:
            del self._failures[key]
