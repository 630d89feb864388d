"""Docker HEALTHCHECK for whichever Procfile process this container runs (deploy/entrypoint.sh).

The entry point execs the process, so it is PID 1: its command line says which process it is, and
its environment holds the port `bot.cli export-env` gave it, so no port default is repeated here.
Kubernetes ignores HEALTHCHECK and probes the same paths itself (deploy/k8s/base).
Exit 0 when healthy, 1 when not (Docker's convention).
"""
from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

# Module run by the Procfile command -> (port variable, path answered without a token).
HTTP_PROBES = {
    "rasa_runtime": ("RASA_PORT", "/"),
    "action_server": ("ACTION_PORT", "/health"),
    "channels.web": ("WEB_PORT", "/healthz"),
}
# Processes with no HTTP side (the follow-up scheduler): healthy while PID 1 runs them.
NO_HTTP = {"bot.outreach"}


def running_module(proc: Path) -> tuple[str | None, dict[str, str]]:
    """The module PID 1 runs with `python -m`, and PID 1's environment."""
    argv = (proc / "cmdline").read_bytes().decode().split("\0")
    module = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else None
    environ = dict(item.split("=", 1) for item in (proc / "environ").read_bytes().decode().split("\0") if "=" in item)
    return module, environ


def check(proc: Path = Path("/proc/1"), timeout: float = 5.0) -> str | None:
    """None when healthy, else why not."""
    module, environ = running_module(proc)
    if module in NO_HTTP:
        return None
    if module not in HTTP_PROBES:
        return f"PID 1 runs {module or 'no python -m module'}: not a process of the Procfile"
    variable, path = HTTP_PROBES[module]
    url = f"http://127.0.0.1:{environ[variable]}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return None if response.status == 200 else f"{url}: HTTP {response.status}"
    except OSError as error:
        return f"{url}: {error}"


if __name__ == "__main__":
    problem = check()
    if problem:
        print(problem, file=sys.stderr)
    sys.exit(1 if problem else 0)
