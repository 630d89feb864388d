"""The baseline: Rasa's own starter bot (`rasa init`) with its default config, built once and cached.

Cached under var/bench/baseline, keyed by the Rasa version: a second run finds the model and skips.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
BASELINE_DIR = PROJECT_ROOT / "var" / "bench" / "baseline"
MODEL_NAME = "baseline"
KEY_FILE = ".bench-key"
META_FILE = ".bench-meta.json"


def rasa_version() -> str:
    out = subprocess.run([str(VENV_BIN / "python"), "-c", "import rasa; print(rasa.__version__)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def tool_env() -> dict[str, str]:
    """Environment for the baseline's rasa commands: quiet, no telemetry, same TF threading as ours."""
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore",
    }


def model_path(base_dir: Path = BASELINE_DIR) -> Path:
    return base_dir / "models" / f"{MODEL_NAME}.tar.gz"


def ensure_baseline(base_dir: Path = BASELINE_DIR, log=print) -> Path:
    """The baseline's trained model; creates the project and trains it only when missing or stale."""
    key = f"rasa=={rasa_version()}"
    model = model_path(base_dir)
    key_file = base_dir / KEY_FILE
    if model.exists() and key_file.exists() and key_file.read_text().strip() == key:
        return model
    if base_dir.exists():
        shutil.rmtree(base_dir)
    base_dir.mkdir(parents=True)
    env = tool_env()
    started = time.monotonic()
    log(f"bench: creating the baseline (rasa init --no-prompt) in {base_dir} ...")
    # `rasa init --no-prompt` writes the starter project and also trains it once (timed: its training time).
    subprocess.run([str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(base_dir)],
                   cwd=base_dir, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    init_s = time.monotonic() - started
    # A model with a fixed name, trained with the starter's own (default) config.yml (cached: seconds).
    log("bench: rasa train (baseline, its default config) ...")
    subprocess.run([str(VENV_BIN / "rasa"), "train", "--fixed-model-name", MODEL_NAME, "--out", "models",
                    "--quiet"], cwd=base_dir, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    if not model.exists():
        raise RuntimeError(f"baseline training produced no {model}")
    (base_dir / META_FILE).write_text(json.dumps({"rasa": key, "init_and_train_s": round(init_s, 1)}))
    key_file.write_text(key + "\n")
    log(f"bench: baseline ready in {time.monotonic() - started:.0f}s")
    return model


def baseline_meta(base_dir: Path = BASELINE_DIR) -> dict:
    try:
        return json.loads((base_dir / META_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}


class BaselineServer:
    """`rasa run --enable-api` of the baseline, started like our Rasa server (same TF threading env).

    `extra_args`, `env` and `name` run another stock `rasa run` the same way (the bench's "stock" system:
    our model on plain Rasa, without rasa_runtime).
    """

    def __init__(self, model: Path, port: int, log_dir: Path, base_dir: Path = BASELINE_DIR,
                 extra_args: list[str] | None = None, env: dict[str, str] | None = None,
                 name: str = "baseline") -> None:
        self.model = model
        self.port = port
        self.log_dir = log_dir
        self.base_dir = base_dir
        self.extra_args = extra_args or []
        self.env = env
        self.name = name
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 240) -> None:
        log = open(self.log_dir / f"{self.name}-rasa.log", "ab")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "rasa"), "run", "--model", str(self.model), "--enable-api", "--port", str(self.port),
             *self.extra_args],
            cwd=self.base_dir, env=self.env or tool_env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.time() + timeout
        while True:
            try:
                response = requests.get(f"{self.url}/status", timeout=2)
                if response.ok and response.json().get("model_file"):
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.name} Rasa server exited early; see {self.log_dir}/{self.name}-rasa.log")
            if time.time() > deadline:
                raise TimeoutError(f"{self.name} Rasa server not ready after {timeout}s")
            time.sleep(0.5)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


def time_training(base_dir: Path, out_dir: Path, name: str, log_path: Path) -> float:
    """Seconds of a full `rasa train` of the project in base_dir (forced, no training cache)."""
    env = tool_env()
    for key in ("TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS"):
        env.pop(key, None)   # train as scripts/bootstrap.sh does: TensorFlow's default threading
    env["RASA_MAX_CACHE_SIZE"] = "0"   # no reuse of cached components: a full training
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log_path, "ab") as log:
        subprocess.run([str(VENV_BIN / "rasa"), "train", "--force", "--fixed-model-name", name, "--out",
                        str(out_dir), "--quiet"], cwd=base_dir, env=env, check=True, stdout=log,
                       stderr=subprocess.STDOUT)
    return round(time.monotonic() - started, 1)


if __name__ == "__main__":
    print(ensure_baseline())
    sys.exit(0)
