"""deploy/entrypoint.sh and deploy/healthcheck.py, run for real on this machine as a container runs them:
the Procfile's command for a process, Rasa's configuration rendered by the same generator as `make run`,
no start with a secret that only this container would know."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.e2e.stack import free_port, wait_healthy

sys.path.insert(0, str(PROJECT_ROOT / "deploy"))
import healthcheck  # noqa: E402

ENTRYPOINT = PROJECT_ROOT / "deploy" / "entrypoint.sh"
SECRETS = {"RASA_API_TOKEN": "a" * 64, "ACTION_SERVER_TOKEN": "b" * 64, "LINK_SECRET": "c" * 64,
           "PAYMENTS_FEED_SECRET": "d" * 64}


def container_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment a container gets: its settings and nothing of this machine's `.venv` activation."""
    keep = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return {**keep, "APP_VAR_DIR": str(var_dir), "APP_ENV": "production", "ACTION_HOST": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{var_dir / 'app.db'}", "TRACKER_STORE_URL": f"sqlite:///{var_dir / 'tracker.db'}",
            "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore", **extra}


def test_an_unknown_process_is_refused_before_anything_starts(tmp_path):
    run = subprocess.run([str(ENTRYPOINT), "worker"], env=container_env(tmp_path), capture_output=True, text=True)
    assert run.returncode == 2
    assert "no process 'worker' in the Procfile" in run.stderr


@pytest.mark.slow
def test_a_container_without_the_shared_secrets_refuses_to_start_naming_them(tmp_path):
    run = subprocess.run([str(ENTRYPOINT), "actions"], env=container_env(tmp_path, TELEGRAM_TOKEN="123:abc"),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    named = set(run.stderr.split("set ", 1)[1].split(" in the environment")[0].split())
    assert named == set(SECRETS) | {"TELEGRAM_WEBHOOK_SECRET"}


@pytest.mark.slow
def test_the_action_server_starts_from_the_procfile_with_rasas_files_rendered_and_a_passing_healthcheck(tmp_path):
    port = free_port()
    env = container_env(tmp_path, ACTION_PORT=str(port), RASA_PORT=str(free_port()), **SECRETS)
    log = tmp_path / "actions.log"
    with log.open("w") as output:
        process = subprocess.Popen([str(ENTRYPOINT), "actions"], env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", process, log, timeout=90)
        proc = Path(f"/proc/{process.pid}")
        # The entry point exec'd the Procfile's command: the healthcheck finds it as the container's PID 1.
        assert (proc / "cmdline").read_bytes().split(b"\0")[:3] == [b".venv/bin/python", b"-m", b"action_server"]
        assert healthcheck.check(proc) is None
        endpoints = yaml.safe_load((tmp_path / "endpoints.yml").read_text())
        assert endpoints["action_endpoint"]["headers"]["Authorization"] == f"Bearer {SECRETS['ACTION_SERVER_TOKEN']}"
        assert endpoints["tracker_store"]["db"] == str(tmp_path / "tracker.db")
        assert "channels.widget.socketio.WidgetSocketIOInput" in yaml.safe_load((tmp_path / "credentials.yml").read_text())
        assert not list(tmp_path.glob(".*_token")) and not list(tmp_path.glob(".*_secret"))
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)  # stops on the signal a container runtime sends (TimeoutExpired if not)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_the_healthcheck_fails_when_the_server_does_not_answer(tmp_path):
    # A process that runs `python -m action_server` in its command line but listens nowhere.
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "-m", "action_server"],
                               env={**os.environ, "ACTION_PORT": str(port)})
    try:
        proc = Path(f"/proc/{process.pid}")
        deadline = time.time() + 10
        while b"action_server" not in (proc / "cmdline").read_bytes() and time.time() < deadline:
            time.sleep(0.05)  # until the child has exec'd (before, it shows pytest's command line)
        problem = healthcheck.check(proc, timeout=2)
        assert problem and f"http://127.0.0.1:{port}/health" in problem
    finally:
        process.kill()
        process.wait()
