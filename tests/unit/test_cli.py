"""Set-up from the command line: idempotent, and stopped by an invalid policy with the key named."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def run_cli(tmp_path, *args, **env):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "APP_VAR_DIR": str(tmp_path),
                               **env}, timeout=120)


def test_setup_twice_creates_the_demo_data_once(tmp_path):
    first = run_cli(tmp_path, "setup")
    assert first.returncode == 0, first.stderr
    assert "demo data created: HCF-1001, HCF-2002, HCF-3003, HCF-4004" in first.stdout
    second = run_cli(tmp_path, "setup")
    assert second.returncode == 0 and "demo data present" in second.stdout


def test_an_invalid_policy_stops_setup_naming_the_key(tmp_path):
    bad = tmp_path / "policy.yml"
    bad.write_text((PROJECT_ROOT / "policy.yml").read_text().replace("surplus_share: 0.7", "surplus_share: 7"))
    result = run_cli(tmp_path, "setup", POLICY_FILE=str(bad))
    assert result.returncode == 2
    assert "affordability.surplus_share" in result.stderr and "7" in result.stderr


def mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_setup_makes_var_and_everything_in_it_private(tmp_path):
    var = tmp_path / "var"
    assert run_cli(var, "setup").returncode == 0
    assert run_cli(var, "render-config").returncode == 0
    assert mode(var) == 0o700
    for name in ("app.db", ".rasa_api_token", ".action_server_token", ".link_secret", "endpoints.yml",
                 "credentials.yml"):
        assert mode(var / name) == 0o600, name


def test_setup_tightens_the_files_of_an_older_install(tmp_path):
    var = tmp_path / "var"
    assert run_cli(var, "setup").returncode == 0
    var.chmod(0o755)
    (var / "app.db").chmod(0o644)
    (var / "tracker.db").write_bytes(b"")  # as Rasa created it before umask 077
    (var / "tracker.db").chmod(0o644)
    assert run_cli(var, "setup").returncode == 0
    assert (mode(var), mode(var / "app.db"), mode(var / "tracker.db")) == (0o700, 0o600, 0o600)


def test_show_settings_hides_database_and_redis_passwords(tmp_path):
    result = run_cli(tmp_path, "show-settings", DATABASE_URL="postgresql://app:db-pass-123@db.example:5432/app",
                     TRACKER_STORE_URL="postgresql://rasa:tracker-pass-456@db.example/rasa",
                     REDIS_URL="redis://:redis-pass-789@cache.example:6379/0")
    assert result.returncode == 0, result.stderr
    for password in ("db-pass-123", "tracker-pass-456", "redis-pass-789"):
        assert password not in result.stdout
    assert "postgresql://app:***@db.example:5432/app" in result.stdout
    assert "redis://:***@cache.example:6379/0" in result.stdout


def test_export_env_and_the_procfile_hold_no_secret(tmp_path):
    result = run_cli(tmp_path, "export-env", RASA_API_TOKEN="api-token-for-the-test",
                     ACTION_SERVER_TOKEN="action-token-for-the-test")
    assert result.returncode == 0 and "RASA_PORT" in result.stdout
    assert "api-token-for-the-test" not in result.stdout and "action-token-for-the-test" not in result.stdout
    procfile = (PROJECT_ROOT / "Procfile").read_text()
    assert "TOKEN" not in procfile and "SECRET" not in procfile and "--auth-token" not in procfile
    assert '--cors "*"' not in procfile
