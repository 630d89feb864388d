"""The guarded action server as its own process (`python -m action_server`), on a free port and a temporary database."""
from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.stack import VENV_BIN, free_port, wait_healthy
from tests.conftest import PROJECT_ROOT

SERVER_COMMAND = ["-m", "action_server"]


@dataclass(frozen=True)
class RunningActionServer:
    url: str
    port: int
    token: str
    max_request_bytes: int
    log: Path


@pytest.fixture(scope="module")
def action_server(tmp_path_factory) -> Iterator[RunningActionServer]:
    var_dir = tmp_path_factory.mktemp("action-server") / "var"
    port = free_port()
    server = RunningActionServer(url=f"http://127.0.0.1:{port}", port=port, token="s3cret-action-token",
                                 max_request_bytes=1_000_000, log=var_dir.parent / "actions.log")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "APP_VAR_DIR": str(var_dir), "ACTION_PORT": str(port),
           "ACTION_SERVER_TOKEN": server.token, "ACTION_MAX_REQUEST_BYTES": str(server.max_request_bytes),
           "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    subprocess.run([str(VENV_BIN / "python"), "-m", "bot.cli", "setup"], cwd=PROJECT_ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    with open(server.log, "ab") as log:
        process = subprocess.Popen([str(VENV_BIN / "python"), *SERVER_COMMAND], cwd=PROJECT_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(f"{server.url}/health", process, server.log)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
