"""Secrets generated into `var/`: safe on a command line, private from the start, one value however many processes start."""
from __future__ import annotations

import multiprocessing

from bot.config import _persistent_secret, load_settings


def test_generated_secrets_are_hex_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path / "var"))
    for name in ("RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "LINK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    generated = load_settings()
    for secret in (generated.rasa_api_token, generated.action_server_token, generated.link_secret):
        assert len(secret) == 64 and set(secret) <= set("0123456789abcdef")  # never a leading "-"
    again = load_settings()
    assert (again.rasa_api_token, again.action_server_token, again.link_secret) == (
        generated.rasa_api_token, generated.action_server_token, generated.link_secret)
    assert (tmp_path / "var").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "var" / ".action_server_token").stat().st_mode & 0o777 == 0o600


def _secret_after(barrier, var_dir, results) -> None:
    barrier.wait()
    results.put(_persistent_secret(var_dir, "RACED_SECRET"))


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    context = multiprocessing.get_context("fork")
    racers = 8
    barrier, results = context.Barrier(racers), context.Queue()
    processes = [context.Process(target=_secret_after, args=(barrier, tmp_path / "var", results))
                 for _ in range(racers)]
    for process in processes:
        process.start()
    values = {results.get(timeout=30) for _ in processes}
    for process in processes:
        process.join(timeout=30)
    assert len(values) == 1 and len(values.pop()) == 64
    assert [path.name for path in (tmp_path / "var").iterdir()] == [".raced_secret"]  # no drafts left
