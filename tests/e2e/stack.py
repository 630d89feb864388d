"""Start the real action server and Rasa server on free ports, against a temporary database."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator

import requests

import yaml

from bot.demo.seed import seed_demo_data
from bot.handoff.queue import EscalationQueue
from bot.storage import Database
from tests.conftest import PROJECT_ROOT

VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
MODEL = PROJECT_ROOT / "models" / "assistant.tar.gz"
# How each channel names its conversations (channels/rest, channels/widget, channels/telegram).
CHANNEL_PREFIXES = ("rest:", "web:", "telegram:")


def desk_always_open(policy):
    """The policy with its agent desk staffed around the clock: a request for a person is then answered
    the same way whenever a test runs (out-of-hours behaviour is tested with its own desk)."""
    from dataclasses import replace
    from datetime import time as clock
    return replace(policy, desk=replace(policy.desk, open_days=tuple(range(7)), opens=clock.min, closes=clock.max))


def always_open_policy_file(path: Path) -> Path:
    """policy.yml with the desk open every day around the clock, for the servers a stack starts."""
    policy = yaml.safe_load((PROJECT_ROOT / "policy.yml").read_text())
    policy["desk"].update(time_zone="UTC", open_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                          opens="00:00", closes="24:00")
    path.write_text(yaml.safe_dump(policy, allow_unicode=True))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Wait until `url` answers 2xx; fail naming the log if the process exits or time runs out."""
    deadline = time.time() + timeout
    while True:
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        if process.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"{url} did not come up; see {log}")
        time.sleep(0.3)


class Stack:
    """A running pair of servers; `restart()` stops both and starts them again on the same state."""

    def __init__(self, var_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.var_dir = var_dir
        self.rasa_port = free_port()
        self.action_port = free_port()
        self.env = {
            **os.environ,
            "APP_VAR_DIR": str(var_dir),
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "RASA_API_TOKEN": "e2e-token",
            "ACTION_SERVER_TOKEN": "-e2e-action-token",  # a leading "-" once broke start-up (issue 9, item 8)
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_INTRA_OP_PARALLELISM_THREADS": "1",
            "TF_INTER_OP_PARALLELISM_THREADS": "1",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
        for inherited in ("DATABASE_URL", "TRACKER_STORE_URL", "REDIS_URL"):
            self.env.pop(inherited, None)
        self.env["POLICY_FILE"] = str(always_open_policy_file(var_dir / "policy-desk-open.yml"))
        # The web app's unclaimed-notice tick runs on the real clock; tests call it with their own.
        self.env["WAIT_NOTICE_INTERVAL_SECONDS"] = "0"
        self.env.update(extra_env or {})
        self.processes: list[subprocess.Popen] = []
        self.url = f"http://127.0.0.1:{self.rasa_port}"

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.var_dir / f"{name}.log", "ab")
        return subprocess.Popen(args, cwd=PROJECT_ROOT, env={**self.env, **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    @staticmethod
    def action_server_command() -> list[str]:
        """The guarded action server, as in the Procfile: rasa_sdk without Rasa/TensorFlow, a fraction of the memory."""
        return [str(VENV_BIN / "python"), "-m", "action_server"]  # its port: ACTION_PORT

    def rasa_command(self, port: int) -> list[str]:
        """`rasa run` with our fixes (rasa_runtime), as in the Procfile; the API token comes from the environment."""
        return [str(VENV_BIN / "python"), "-m", "rasa_runtime", "run", "--model", str(MODEL),
                "--enable-api", "--port", str(port),
                "--endpoints", str(self.var_dir / "endpoints.yml"),
                "--credentials", str(self.var_dir / "credentials.yml")]

    def setup(self) -> None:
        for command in ("setup", "render-config"):
            subprocess.run([str(VENV_BIN / "python"), "-m", "bot.cli", command], cwd=PROJECT_ROOT,
                           env=self.env, check=True, capture_output=True)

    def reset_demo(self) -> None:
        """Fresh demo loans: no agreements, promises or verification attempts left by earlier tests.

        What `python -m bot.cli reset-demo` does to the demo data, in this process (a subprocess
        per test spent ~1.4 s importing, a minute over the end-to-end suite).
        """
        with self.database() as database, database.unit_of_work() as session:
            seed_demo_data(session, date.today())

    def start(self) -> None:
        self.processes = [
            self._spawn("actions", self.action_server_command()),
            self._spawn("rasa", self.rasa_command(self.rasa_port)),
        ]
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # never leave a half-started pair behind
            raise

    def _wait_ready(self, timeout: float = 180) -> None:
        deadline = time.time() + timeout
        checks = {
            f"http://127.0.0.1:{self.action_port}/health": None,
            f"{self.url}/status?token=e2e-token": "model_file",
        }
        while checks:
            for url, key in list(checks.items()):
                try:
                    response = requests.get(url, timeout=2)
                    if response.ok and (key is None or response.json().get(key)):
                        del checks[url]
                except requests.RequestException:
                    pass
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a server exited early; see logs in {self.var_dir}")
            if time.time() > deadline:
                raise TimeoutError(f"servers not ready after {timeout}s: {list(checks)}; logs in {self.var_dir}")
            time.sleep(0.5)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []

    @contextlib.contextmanager
    def web_app(self, port: int | None = None) -> Iterator[str]:
        """Run `python -m channels.web` (demo page, widget, console) against this stack; yields its URL."""
        port = port or free_port()
        env = {**self.env, "WEB_PORT": str(port), "RASA_URL": self.url}
        log = open(self.var_dir / "web.log", "ab")
        process = subprocess.Popen([str(VENV_BIN / "python"), "-m", "channels.web"], cwd=PROJECT_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(f"{url}/healthz", process, self.var_dir / "web.log")
            yield url
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)

    def restart(self) -> None:
        self.stop()
        self.start()

    @contextlib.contextmanager
    def database(self) -> Iterator[Database]:
        """The application database the servers use (read by tests to check what was recorded)."""
        database = Database(self.env.get("DATABASE_URL") or f"sqlite:///{self.var_dir / 'app.db'}")
        try:
            yield database
        finally:
            database.dispose()

    def escalation_reason(self, conversation_id: str) -> str | None:
        """Why the latest escalation of a conversation was opened."""
        with self.database() as database, database.unit_of_work() as session:
            escalation = EscalationQueue(session).latest_for(conversation_id)
            return escalation.reason if escalation else None

    def say(self, sender: str, text: str) -> list[str]:
        """Send one message as REST sender `sender` (conversation `rest:<sender>`); the replies' texts.

        For callers that only need REST (the simulator, the PostgreSQL/Redis test); conversation
        tests use tests/e2e/borrowers.py, which speaks every channel.
        """
        response = requests.post(f"{self.url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": text}, timeout=60)
        response.raise_for_status()
        return [message.get("text") or (message.get("custom") or {}).get("text", "") for message in response.json()]

    def record_hand_back(self, conversation_id: str, agent: str) -> None:
        """Claim the conversation's escalation and hand it back in the database, as the console does
        before it resumes Rasa (the hand-back action acts only on a recorded hand-back)."""
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        with self.database() as database, database.unit_of_work() as session:
            queue = EscalationQueue(session)
            escalation = queue.latest_for(conversation_id)
            assert escalation is not None and queue.claim(escalation.id, agent, now)
            session.refresh(escalation)
            queue.hand_back(escalation, now)

    def tracker(self, conversation_id: str) -> dict:
        """A conversation's tracker; a bare id (no `rest:`/`web:`/`telegram:`) is a REST sender's."""
        if not conversation_id.startswith(CHANNEL_PREFIXES):
            conversation_id = "rest:" + conversation_id
        response = requests.get(f"{self.url}/conversations/{conversation_id}/tracker",
                                params={"token": "e2e-token"}, timeout=30)
        response.raise_for_status()
        return response.json()
