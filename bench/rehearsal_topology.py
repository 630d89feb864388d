"""The scaled-out deployment the rehearsal runs: nginx in front of two Rasa processes, two action
servers and the web app, on PostgreSQL and Redis.

Start-up is tests/e2e/stack.py's (`Stack`: environment, `bot.cli setup` + `render-config`, the
servers' command lines, the web app); this module only adds the second Rasa process and action
server, nginx, and the means to kill and restart one process.

Both Rasa processes call the action servers through nginx's `actions` upstream
(endpoints.yml `action_endpoint.url` = nginx): a Rasa process pinned to one action server would
fail every custom action while that server is down, although the other one could answer.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

import requests

from bench.memory import process_tree
from tests.conftest import PROJECT_ROOT
from tests.e2e.stack import Stack, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "rehearsal.conf.template"
RASA_PROCESSES = ("rasa_a", "rasa_b")
ACTION_SERVERS = ("actions_x", "actions_y")


def render_nginx_config(prefix: Path, ports: dict[str, int]) -> Path:
    """deploy/nginx/rehearsal.conf.template with this run's prefix and ports."""
    text = NGINX_TEMPLATE.read_text().replace("{{PREFIX}}", str(prefix))
    # Started by root, nginx's workers would run as `nobody`, who cannot write under the prefix:
    # they run as the user who started it, as they do for anyone else.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    text = text.replace("{{USER_DIRECTIVE}}", user)
    for name, port in ports.items():
        text = text.replace("{{" + name.upper() + "}}", str(port))
    if "{{" in text:
        raise ValueError(f"unfilled placeholder in {NGINX_TEMPLATE}: {text[text.index('{{'):][:40]}")
    path = prefix / "nginx.conf"
    path.write_text(text)
    return path


class Topology:
    """The running deployment. `kill(name)` / `restart(name)` act on one process by name."""

    def __init__(self, var_dir: Path, postgres_url: str, redis_url: str, extra_env: dict[str, str]) -> None:
        self.ports = {name: free_port() for name in (*RASA_PROCESSES, *ACTION_SERVERS, "web",
                                                     "listen_rasa", "listen_actions", "listen_web")}
        self.url = f"http://127.0.0.1:{self.ports['listen_rasa']}"
        self.web_url = f"http://127.0.0.1:{self.ports['listen_web']}"
        self.stack = Stack(var_dir, extra_env={
            "DATABASE_URL": postgres_url, "TRACKER_STORE_URL": postgres_url, "REDIS_URL": redis_url,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.ports['listen_actions']}/webhook",
            **extra_env,
        })
        self.stack.url = self.url  # the stack's clients (tracker, web app's RASA_URL) go through nginx
        self.nginx_prefix = var_dir / "nginx"
        self.processes: dict[str, subprocess.Popen] = {}
        self._web: contextlib.ExitStack | None = None

    @property
    def token(self) -> str:
        return self.stack.env["RASA_API_TOKEN"]

    def start(self) -> None:
        self.stack.setup()
        try:
            self._start_nginx()
            for name in (*ACTION_SERVERS, *RASA_PROCESSES):
                self.processes[name] = self._spawn(name)
            for name in (*ACTION_SERVERS, *RASA_PROCESSES):
                self._wait_ready(name)
            self._web = contextlib.ExitStack()
            self._web.enter_context(self._web_app())
        except BaseException:
            self.stop()
            raise

    @contextlib.contextmanager
    def _web_app(self):
        """The web app as the stack starts it, on the port nginx forwards to."""
        with self.stack.web_app(self.ports["web"]) as url:
            requests.get(f"{self.web_url}/healthz", timeout=10).raise_for_status()  # through nginx
            yield url

    def _start_nginx(self) -> None:
        self.nginx_prefix.mkdir(parents=True, exist_ok=True)
        config = render_nginx_config(self.nginx_prefix, self.ports)
        check = subprocess.run([NGINX, "-t", "-q", "-p", str(self.nginx_prefix), "-c", str(config)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejects {config}: {check.stderr}")
        log = open(self.nginx_prefix / "stdout.log", "ab")
        self.processes["nginx"] = subprocess.Popen(
            [NGINX, "-p", str(self.nginx_prefix), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.time() + 10
        while not (self.nginx_prefix / "nginx.pid").exists():
            if self.processes["nginx"].poll() is not None or time.time() > deadline:
                raise RuntimeError(f"nginx did not start; see {self.nginx_prefix}")
            time.sleep(0.1)

    def _spawn(self, name: str) -> subprocess.Popen:
        port = str(self.ports[name])
        if name in ACTION_SERVERS:
            return self.stack._spawn(name, self.stack.action_server_command(), env={"ACTION_PORT": port})
        return self.stack._spawn(name, self.stack.rasa_command(self.ports[name]), env={"RASA_PORT": port})

    def _wait_ready(self, name: str, timeout: float = 300) -> None:
        port = self.ports[name]
        url = (f"http://127.0.0.1:{port}/health" if name in ACTION_SERVERS
               else f"http://127.0.0.1:{port}/status?token={self.token}")
        deadline = time.time() + timeout
        while True:
            try:
                response = requests.get(url, timeout=2)
                if response.ok and (name in ACTION_SERVERS or response.json().get("model_file")):
                    return
            except requests.RequestException:
                pass
            if self.processes[name].poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{name} did not come up; see {self.stack.var_dir / (name + '.log')}")
            time.sleep(0.3)

    def kill(self, name: str) -> None:
        """SIGKILL the process and its children: no clean-up, no goodbye, as a crash or an OOM kill."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def restart(self, name: str) -> float:
        """Start a killed process again on its port; seconds until it is ready."""
        started = time.perf_counter()
        self.processes[name] = self._spawn(name)
        self._wait_ready(name)
        return time.perf_counter() - started

    def pids(self) -> dict[str, list[int]]:
        return {name: process_tree(process.pid) for name, process in self.processes.items()
                if process.poll() is None}

    def stop(self) -> None:
        if self._web is not None:
            self._web.close()
            self._web = None
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = {}
